package fr.collecte.keycloak;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.http.client.config.RequestConfig;
import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.TokenCategory;
import org.keycloak.common.util.Time;
import org.keycloak.crypto.KeyUse;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.http.simple.SimpleHttp;
import org.keycloak.models.AbstractKeycloakTransaction;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.representations.JsonWebToken;
import org.keycloak.services.Urls;
import org.keycloak.urls.UrlType;

/**
 * Tells the portal that the realm changed, so that what it keeps of Keycloak's answers
 * ({@code portal/core/keycloak/read_cache.py}) is read again at its next request.
 *
 * <p>A client of the realm that wants to be told carries the attribute
 * {@code collecte.changes.url} (the portal's service-account client,
 * {@code collecte-portail-admin}: {@code <portal>/auth/backchannel-changes}). After any change
 * is committed — a successful admin event (any resource, any operation), or a user event that
 * may write (the login pages' actions: password, CGU, profile, second factor, lockout… — every
 * type but the read-only ones listed in {@link #READ_ONLY}) — this POSTs to that URL a token
 * signed with the realm's keys like a logout token ({@code iss} the realm, {@code aud} that
 * client, {@code iat}, {@code jti}, {@code events} holding {@value #EVENT}): the portal checks
 * it with the realm's published keys, as it checks logout tokens. A token says only « the realm
 * changed », whatever its age within the portal's limit: one signed less than
 * {@link #TOKEN_REUSED_MILLIS} ago for the same portal, issuer and realm key is sent again rather
 * than signing each write's (a signature was ≈ 7 % of Keycloak's processor in a bulk import,
 * measured with Java Flight Recorder). Replaying it gains nothing that replaying a token of its
 * age did not.
 *
 * <p>Once per Keycloak request, after its transaction committed: Keycloak commits before it
 * answers the request, so whoever made the change gets their answer once the portal knows
 * (tested: {@code tests/integration/test_read_cache.py}). Nothing is sent for a change that was
 * rolled back. Changes made by the client that is told and that says it marks them itself
 * (header {@value #MARKED_HEADER}: the portal's web workers and import jobs, which replace the
 * generation after each write) are skipped: a portal worker waiting for Keycloak's answer must
 * not have to wait for a portal worker. The same service account without the header (the
 * command-line tooling) is told about, as is any other client. A portal that does not answer
 * (2 s) is logged; its cache entries still expire after {@code PAGE_CACHE_SECONDS}.
 *
 * <p>Global: active in every realm; does nothing where no client has the attribute.
 */
public class ChangeNotifier implements EventListenerProvider, EventListenerProviderFactory {

    public static final String PROVIDER_ID = "collecte-changements";
    static final String URL_ATTRIBUTE = "collecte.changes.url";
    static final String EVENT = "urn:collecte:event:changes";
    static final String PARAMETER = "changes_token";
    static final String MARKED_HEADER = "X-Collecte-Changes-Marked";
    private static final int TIMEOUT_MILLIS = 2000;
    /** User events that write nothing the portal reads (sessions and tokens only), and failures. */
    static final Set<String> READ_ONLY = Set.of("LOGIN", "LOGOUT", "CODE_TO_TOKEN", "CLIENT_LOGIN",
            "REFRESH_TOKEN", "VALIDATE_ACCESS_TOKEN", "INTROSPECT_TOKEN", "USER_INFO_REQUEST",
            "SEND_VERIFY_EMAIL", "SEND_RESET_PASSWORD", "SEND_IDENTITY_PROVIDER_LINK",
            "RESTART_AUTHENTICATION", "TOKEN_EXCHANGE", "PERMISSION_TOKEN", "AUTHREQID_TO_TOKEN",
            "PUSHED_AUTHORIZATION_REQUEST", "OAUTH2_DEVICE_AUTH", "OAUTH2_DEVICE_VERIFY_USER_CODE",
            "OAUTH2_DEVICE_CODE_TO_TOKEN", "USER_SESSION_DELETED", "CLIENT_INFO");

    private static final Logger LOG = Logger.getLogger(ChangeNotifier.class);

    /** How long the list of clients to tell is kept per realm, in milliseconds. */
    static final long TOLD_KEPT_MILLIS = 30_000;
    /** How long a signed token is sent again, in milliseconds: far below the age the portal
     *  accepts (backchannel.py's {@code MAX_AGE}, 300 s). */
    static final long TOKEN_REUSED_MILLIS = 10_000;

    private final KeycloakSession session;
    /** Realm id → its clients to tell, read at most once per {@link #TOLD_KEPT_MILLIS}. */
    private final Map<String, KeptTold> toldByRealm;
    /** Audience (a client to tell) → the token last signed for it: one entry per such client,
     *  whatever the requests' host names. */
    private final Map<String, SignedToken> tokens;
    private boolean scheduled;

    public ChangeNotifier() {
        this(null, new ConcurrentHashMap<>(), new ConcurrentHashMap<>());
    }

    private ChangeNotifier(KeycloakSession session, Map<String, KeptTold> toldByRealm,
            Map<String, SignedToken> tokens) {
        this.session = session;
        this.toldByRealm = toldByRealm;
        this.tokens = tokens;
    }

    private record KeptTold(long until, List<Told> told) {
    }

    private record SignedToken(String issuerAndKey, long until, String token) {
    }

    /** The token the portal receives: signed as a logout token is (realm key, not HMAC). */
    static final class ChangesToken extends JsonWebToken {
        @Override
        public TokenCategory getCategory() {
            return TokenCategory.LOGOUT;
        }
    }

    static boolean writes(Event event) {
        String type = event.getType().name();
        return event.getError() == null && !type.endsWith("_ERROR") && !READ_ONLY.contains(type);
    }

    @Override
    public void onEvent(Event event) {
        if (writes(event)) {
            schedule(event.getRealmId(), null);
        }
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        if (event.getError() == null) {
            schedule(event.getRealmId(), markedBy(event));
        }
    }

    /** The client that made the change and marks its changes itself (it sent
     *  {@value #MARKED_HEADER}), else null. */
    private String markedBy(AdminEvent event) {
        boolean marked = session.getContext().getRequestHeaders() != null
                && session.getContext().getRequestHeaders().getHeaderString(MARKED_HEADER) != null;
        return marked && event.getAuthDetails() != null ? event.getAuthDetails().getClientId() : null;
    }

    /** A notification to each client to tell, sent once this request's transaction committed. */
    private void schedule(String realmId, String authorClientId) {
        if (scheduled) {
            return;
        }
        RealmModel realm = realmId == null ? null : session.realms().getRealm(realmId);
        if (realm == null) {
            return;
        }
        List<Told> told = toldIn(realmId);
        if (told.isEmpty()) {
            return;
        }
        scheduled = true;
        // Built now, inside the request: signing needs the realm's keys and the request's URL.
        String issuer = Urls.realmIssuer(session.getContext().getUri(UrlType.FRONTEND).getBaseUri(),
                realm.getName());
        List<Notification> notifications = told.stream()
                // the portal's own marked writes (see the class comment)
                .filter(client -> !client.id().equals(authorClientId))
                .map(client -> new Notification(client.url(),
                        token(realm, issuer, client.clientId())))
                .toList();
        if (notifications.isEmpty()) {
            return;
        }
        session.getTransactionManager().enlistAfterCompletion(new AbstractKeycloakTransaction() {
            @Override
            protected void commitImpl() {
                notifications.forEach(ChangeNotifier.this::send);
            }

            @Override
            protected void rollbackImpl() {
                // nothing changed: nothing to tell
            }
        });
    }

    /** The clients of the realm to tell, kept {@link #TOLD_KEPT_MILLIS} (a change of their
     *  attribute takes effect within that time): reading them costs a transaction of its own,
     *  which every write request would otherwise pay. */
    private List<Told> toldIn(String realmId) {
        long now = Time.currentTimeMillis();
        KeptTold kept = toldByRealm.get(realmId);
        if (kept != null && kept.until() >= now) {
            return kept.told();
        }
        List<Told> told = readTold(realmId);
        if (!told.isEmpty()) {
            // not kept when empty: a client given the attribute is told at once
            toldByRealm.put(realmId, new KeptTold(now + TOLD_KEPT_MILLIS, told));
        }
        return told;
    }

    /** Read in a session of its own: in the request's session the realm's list of clients is
     *  filtered by what the caller may view (an administrator without {@code view-clients},
     *  such as the portal's service account, sees none). */
    private List<Told> readTold(String realmId) {
        return KeycloakModelUtils.runJobInTransactionWithResult(session.getKeycloakSessionFactory(),
                own -> {
                    RealmModel realm = own.realms().getRealm(realmId);
                    return realm == null ? List.<Told>of() : realm.getClientsStream()
                            .filter(client -> client.getAttribute(URL_ATTRIBUTE) != null)
                            .map(client -> new Told(client.getId(), client.getClientId(),
                                    client.getAttribute(URL_ATTRIBUTE)))
                            .toList();
                });
    }

    private record Told(String id, String clientId, String url) {
    }

    /** A token for this portal: the one signed for it less than {@link #TOKEN_REUSED_MILLIS}
     *  ago with the realm's active key, else a new one. The key is part of what is kept: a
     *  token signed with a key since rotated (and perhaps no longer published) is not sent. */
    private String token(RealmModel realm, String issuer, String audience) {
        String algorithm = session.tokens().signatureAlgorithm(TokenCategory.LOGOUT);
        String issuerAndKey = issuer + "\n"
                + session.keys().getActiveKey(realm, KeyUse.SIG, algorithm).getKid();
        long now = Time.currentTimeMillis();
        SignedToken kept = tokens.get(audience);
        if (kept != null && kept.issuerAndKey().equals(issuerAndKey) && kept.until() >= now) {
            return kept.token();
        }
        String signed = sign(issuer, audience);
        tokens.put(audience, new SignedToken(issuerAndKey, now + TOKEN_REUSED_MILLIS, signed));
        return signed;
    }

    private String sign(String issuer, String audience) {
        ChangesToken token = new ChangesToken();
        token.id(UUID.randomUUID().toString());
        token.issuer(issuer);
        token.audience(audience);
        token.iat((long) Time.currentTime());
        token.type("changes+jwt");
        token.setOtherClaims("events", Map.of(EVENT, Map.of()));
        return session.tokens().encode(token);
    }

    private record Notification(String url, String token) {
    }

    private void send(Notification notification) {
        RequestConfig timeouts = RequestConfig.custom().setConnectTimeout(TIMEOUT_MILLIS)
                .setConnectionRequestTimeout(TIMEOUT_MILLIS).setSocketTimeout(TIMEOUT_MILLIS).build();
        try {
            int status = SimpleHttp.create(session).withRequestConfig(timeouts)
                    .doPost(notification.url()).param(PARAMETER, notification.token()).asStatus();
            if (status != 200) {
                LOG.warnf("Portail non prévenu d'un changement (%s) : HTTP %d", notification.url(), status);
            }
        } catch (IOException | RuntimeException error) {
            LOG.warnf("Portail non prévenu d'un changement (%s) : %s", notification.url(), error);
        }
    }

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new ChangeNotifier(session, toldByRealm, tokens);
    }

    @Override
    public boolean isGlobal() {
        return true;
    }

    @Override
    public void close() {
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }
}
