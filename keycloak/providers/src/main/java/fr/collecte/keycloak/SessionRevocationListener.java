package fr.collecte.keycloak;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.common.util.Time;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.services.managers.AuthenticationManager;

/**
 * Ends at once every Keycloak session of a person who may no longer sign in, whoever made the
 * change and by whichever Admin API path (the portal's service account, the admin console, a
 * coordinator): the sign-in flows refuse a new session to whoever is neither a collection contact
 * (a perimeter under the authority rule, {@link Perimeters}: a {@code collecte} value, membership
 * of the adherent's group, a lot of the adherent) nor staff (realm role
 * {@code equipe-plateforme}, directly, through the composites {@code support} and
 * {@code coordonnateur}, or through a group), but a session opened before would otherwise live on
 * until its idle timeout, its refresh tokens still accepted.
 *
 * <p>On each successful admin event that may take that right away from one user —
 * {@code users/<id>} updated (attributes, enabled), realm or client role mappings of
 * {@code users/<id>} deleted, {@code users/<id>/groups/<group>} deleted — the user is read again
 * in the same transaction; if they are now disabled, or have neither a perimeter nor the role
 * {@code equipe-plateforme}, and have any session, this does what the Admin API's
 * « sign out » ({@code POST /users/<id>/logout}) does — not-before set to now for the user (tokens
 * issued before are refused) and a back-channel logout of each of their sessions (clients with a
 * back-channel logout URL are told) — and removes their offline sessions. A person keeping
 * another collection function or their staff role keeps their sessions.
 *
 * <p>An update of an adherent group {@code groups/<id>} (a lot taken from its {@code lots})
 * checks the same way each of its members who is a collection contact of its SIREN for a lot it
 * no longer has.
 *
 * <p>Not covered: a role taken from a group or a composite role, an adherent group deleted or
 * moved (the flows still refuse their next sign-in, and their sessions end at the idle timeout),
 * and a realm partial import. Members are found in Keycloak's database (JPA), where this realm
 * keeps every user: a user federation's members would not be.
 *
 * <p>Admin event listeners are called inside the request's transaction, before it is committed:
 * the sessions end with the change, or, if this fails, the change is rolled back (as in
 * {@link CoordinatorPermissionsListener}). Global: active in every realm without configuration;
 * it does nothing in a realm without the role {@code equipe-plateforme}.
 */
public class SessionRevocationListener implements EventListenerProvider, EventListenerProviderFactory {

    public static final String PROVIDER_ID = "collecte-fin-des-sessions";
    static final String STAFF_ROLE = "equipe-plateforme";

    private static final Logger LOG = Logger.getLogger(SessionRevocationListener.class);
    private static final Set<ResourceType> MAPPING_TYPES = Set.of(
            ResourceType.REALM_ROLE_MAPPING, ResourceType.CLIENT_ROLE_MAPPING, ResourceType.GROUP_MEMBERSHIP);

    private final KeycloakSession session;

    public SessionRevocationListener() {
        this(null);
    }

    private SessionRevocationListener(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public void onEvent(Event event) {
        // user events: nothing to do
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        String userId = affectedUser(event);
        String groupId = userId == null ? updatedGroup(event) : null;
        if (userId == null && groupId == null) {
            return;
        }
        RealmModel realm = session.realms().getRealm(event.getRealmId());
        RoleModel staff = realm == null ? null : realm.getRole(STAFF_ROLE);
        if (staff == null) {
            return;
        }
        try {
            for (UserModel user : affectedUsers(realm, userId, groupId)) {
                if (!mayStillSignIn(user, staff)) {
                    endSessions(realm, user);
                }
            }
        } catch (RuntimeException error) {
            LOG.errorf(error, "Sessions de %s non terminées : la modification est annulée",
                    event.getResourcePath());
            session.getTransactionManager().setRollbackOnly();
        }
    }

    /** The user of the event, or those members of the adherent group it updated who are a
     *  collection contact of its SIREN for a lot it no longer has (its {@code lots} may have lost
     *  the lot that was their last perimeter). Only those: the group's attributes give nobody
     *  else a perimeter. The members' {@code collecte} values are read in one query, without
     *  loading the members: a write that keeps every lot — a principal named, as a bulk import
     *  does once per adherent — loads nobody (measured by profiling the import: loading every
     *  member with their attributes was two thirds of Keycloak's work on such a write). */
    private List<UserModel> affectedUsers(RealmModel realm, String userId, String groupId) {
        if (userId != null) {
            UserModel user = session.users().getUserById(realm, userId);
            return user == null ? List.of() : List.of(user);
        }
        GroupModel group = session.groups().getGroupById(realm, groupId);
        boolean adherent = group != null && group.getParent() != null
                && group.getParent().getParent() == null;
        if (!adherent) {
            return List.of();
        }
        Set<String> lots = group.getAttributeStream(CollecteSchema.LOTS).collect(Collectors.toSet());
        return session.getProvider(JpaConnectionProvider.class).getEntityManager()
                .createQuery("select a.user.id, a.value from UserGroupMembershipEntity m, "
                        + "UserAttributeEntity a where m.groupId = :group and a.user = m.user "
                        + "and a.name = :name", Object[].class)
                .setParameter("group", group.getId())
                .setParameter("name", CollecteSchema.COLLECTION)
                .getResultStream()
                .filter(row -> lostLot((String) row[1], group.getName(), lots))
                .map(row -> (String) row[0])
                .distinct()
                .map(id -> session.users().getUserById(realm, id))
                .filter(Objects::nonNull)
                .toList();
    }

    /** Whether the {@code collecte} value names this SIREN and a lot outside {@code lots}. */
    static boolean lostLot(String value, String siren, Set<String> lots) {
        if (value == null || !siren.equals(CollecteSchema.siren(value))) {
            return false;
        }
        String lot = CollecteSchema.lot(value);
        return lot != null && !lots.contains(lot);
    }

    /** The group {@code groups/<id>} an update event changed (attributes, such as {@code lots}),
     *  else null. */
    static String updatedGroup(AdminEvent event) {
        if (event.getError() != null || event.getResourcePath() == null
                || event.getResourceType() != ResourceType.GROUP
                || event.getOperationType() != OperationType.UPDATE) {
            return null;
        }
        String[] path = event.getResourcePath().split("/");
        return path.length == 2 && "groups".equals(path[0]) ? path[1] : null;
    }

    /** The user whose right to sign in the event may have taken away, else null. */
    static String affectedUser(AdminEvent event) {
        if (event.getError() != null || event.getResourcePath() == null) {
            return null;
        }
        String[] path = event.getResourcePath().split("/");
        if (path.length < 2 || !"users".equals(path[0])) {
            return null;
        }
        boolean userUpdated = event.getResourceType() == ResourceType.USER
                && event.getOperationType() == OperationType.UPDATE && path.length == 2;
        boolean mappingRemoved = MAPPING_TYPES.contains(event.getResourceType())
                && event.getOperationType() == OperationType.DELETE;
        return userUpdated || mappingRemoved ? path[1] : null;
    }

    /** The sign-in flows' rule: enabled, and a collection contact under the authority rule
     *  (a perimeter: value, membership of the adherent's group, lot of the adherent) or staff. */
    static boolean mayStillSignIn(UserModel user, RoleModel staff) {
        if (!user.isEnabled()) {
            return false;
        }
        return user.hasRole(staff) || Perimeters.any(user);
    }

    private void endSessions(RealmModel realm, UserModel user) {
        List<UserSessionModel> sessions = session.sessions().getUserSessionsStream(realm, user).toList();
        List<UserSessionModel> offline = session.sessions().getOfflineUserSessionsStream(realm, user).toList();
        if (sessions.isEmpty() && offline.isEmpty()) {
            return; // nothing to end: no write on each edit of, say, a technical contact
        }
        // what the Admin API's « sign out » does, and the offline sessions too
        session.users().setNotBeforeForUser(realm, user, Time.currentTime());
        for (UserSessionModel userSession : sessions) {
            AuthenticationManager.backchannelLogout(session, userSession, true);
        }
        for (UserSessionModel userSession : offline) {
            session.sessions().removeOfflineUserSession(realm, userSession);
        }
        LOG.infof("Sessions de %s terminées (%d, %d hors ligne) : plus interlocuteur de collecte ni "
                + "personnel", user.getId(), sessions.size(), offline.size());
    }

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new SessionRevocationListener(session);
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
