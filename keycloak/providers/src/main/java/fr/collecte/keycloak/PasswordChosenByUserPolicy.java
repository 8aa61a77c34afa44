package fr.collecte.keycloak;

import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.Token;
import org.keycloak.models.AdminRoles;
import org.keycloak.models.ClientModel;
import org.keycloak.models.Constants;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.policy.PasswordPolicyProvider;
import org.keycloak.policy.PasswordPolicyProviderFactory;
import org.keycloak.policy.PolicyError;
import org.keycloak.representations.IDToken;
import org.keycloak.representations.JsonWebToken;

/**
 * A password policy refusing any password set through the Admin API by someone who does not
 * manage the realm's users: product rule, nobody but the user ever chooses a password.
 *
 * <p>Every password given in clear goes through the realm's policy before it is hashed
 * ({@code PasswordCredentialProvider.createCredential}): the user's own pages (invitation, forgot
 * password, update password), {@code PUT /users/{id}/reset-password}, and {@code credentials} with
 * a {@code value} in {@code POST /users} or {@code PUT /users/{id}}
 * ({@code RepresentationToModel.createCredentials}). The Admin API, and only it among these,
 * authenticates a bearer token and records it in the request's context
 * ({@code AdminRoot.authenticateRealmAdminRequest} → {@code KeycloakContext.setBearerToken}):
 * <ul>
 *   <li>no bearer token: the user's own pages (login-actions), or a server-side import: allowed,
 *       the other policies decide;
 *   <li>a bearer token whose subject holds {@code manage-users} of the realm (the
 *       {@code realm-management} role in the realm itself, the {@code <realm>-realm} client's role
 *       for a master-realm administrator; composites such as {@code realm-admin} or master
 *       {@code admin} included): allowed (platform operators, the provisioning);
 *   <li>any other caller, such as a coordinator whose fine-grained permissions grant
 *       {@code manage} (to which Keycloak falls back for reset-password): refused, with
 *       {@link #REFUSAL_TEXT}.
 * </ul>
 *
 * <p>The Admin API answers 400 with the policy's message looked up in the admin theme, or the
 * message itself when it is no key there: the message is therefore a French sentence, without an
 * ASCII apostrophe or brace ({@code MessageFormat}). A password given already hashed
 * ({@code credentials} with {@code secretData}, no {@code value}) is not checked by Keycloak's
 * policies at all: {@link PasswordSetByUserCredentialProviderFactory} applies the same rule to it.
 */
public class PasswordChosenByUserPolicy implements PasswordPolicyProvider, PasswordPolicyProviderFactory {

    /** The policy's id, as written in the realm's {@code passwordPolicy}. */
    public static final String PROVIDER_ID = "collecteMotDePasseParUtilisateur";
    /** Shown as is by the Admin API and the console (see the class comment). */
    public static final String REFUSAL_TEXT = "Seul l’utilisateur choisit son mot de passe : "
            + "envoyez-lui l’e-mail d’invitation, ou laissez-le utiliser « Mot de passe oublié ».";

    private static final Logger LOG = Logger.getLogger(PasswordChosenByUserPolicy.class);

    private final KeycloakSession session;

    public PasswordChosenByUserPolicy() {
        this(null);
    }

    private PasswordChosenByUserPolicy(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public PolicyError validate(RealmModel realm, UserModel user, String password) {
        String refusal = refusal(session, realm, user);
        return refusal == null ? null : new PolicyError(refusal);
    }

    /**
     * Null when a password may be set for {@code user} in this request, else the refusal (also
     * used by {@link PasswordSetByUserCredentialProviderFactory} for hashed passwords).
     */
    static String refusal(KeycloakSession session, RealmModel realm, UserModel user) {
        Token bearer = session == null ? null : session.getContext().getBearerToken();
        if (bearer == null) {
            return null;
        }
        if (bearer instanceof JsonWebToken token && managesUsers(session, realm, token)) {
            return null;
        }
        LOG.infof("Mot de passe refusé pour %s : posé par l'API d'administration par %s, sans "
                + "manage-users", user == null ? "?" : user.getId(),
                bearer instanceof JsonWebToken token ? token.getSubject() : "?");
        return REFUSAL_TEXT;
    }

    /**
     * Whether the token's subject holds manage-users of {@code realm} (composites included).
     * Shared with the user-profile rules ({@link RestrictedWriter}): the same callers are trusted.
     */
    static boolean managesUsers(KeycloakSession session, RealmModel realm, JsonWebToken token) {
        UserModel caller = caller(session, token);
        RealmModel callersRealm = callersRealm(session, token);
        if (caller == null || callersRealm == null) {
            return false;
        }
        ClientModel management = callersRealm.getId().equals(realm.getId())
                ? realm.getClientByClientId(Constants.REALM_MANAGEMENT_CLIENT_ID)
                : realm.getMasterAdminClient();
        if (management == null || !management.getRealm().getId().equals(callersRealm.getId())) {
            return false;
        }
        RoleModel manageUsers = management.getRole(AdminRoles.MANAGE_USERS);
        return manageUsers != null && caller.hasRole(manageUsers);
    }

    /**
     * Who the token speaks for, in the realm that issued it; null when unknown. A token without
     * {@code sub} (a client without the realm's {@code basic} scope, such as {@code admin-cli} of
     * realm collecte) names its user through its session ({@code sid}), which is how the Admin
     * API itself finds the caller.
     */
    static UserModel caller(KeycloakSession session, JsonWebToken token) {
        RealmModel callersRealm = callersRealm(session, token);
        if (callersRealm == null) {
            return null;
        }
        if (token.getSubject() != null) {
            return session.users().getUserById(callersRealm, token.getSubject());
        }
        String sessionId = token instanceof IDToken idToken ? idToken.getSessionId() : null;
        if (sessionId == null) {
            return null;
        }
        UserSessionModel userSession = session.sessions().getUserSession(callersRealm, sessionId);
        if (userSession == null) {
            userSession = session.sessions().getOfflineUserSession(callersRealm, sessionId);
        }
        return userSession == null ? null : userSession.getUser();
    }

    /** The realm named by the token's issuer ({@code …/realms/<name>}); null when unknown. */
    static RealmModel callersRealm(KeycloakSession session, JsonWebToken token) {
        String issuer = token.getIssuer();
        if (issuer == null) {
            return null;
        }
        return session.realms().getRealmByName(issuer.substring(issuer.lastIndexOf('/') + 1));
    }

    /** Without a user (Keycloak does not call it for a password being set): nothing to refuse. */
    @Override
    public PolicyError validate(String user, String password) {
        return null;
    }

    @Override
    public Object parseConfig(String value) {
        return null;
    }

    @Override
    public PasswordPolicyProvider create(KeycloakSession session) {
        return new PasswordChosenByUserPolicy(session);
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayName() {
        return "Mot de passe choisi par l'utilisateur seul";
    }

    @Override
    public String getConfigType() {
        return null;
    }

    @Override
    public String getDefaultConfigValue() {
        return null;
    }

    @Override
    public boolean isMultiplSupported() {
        return false;
    }
}
