package fr.collecte.keycloak;

import jakarta.persistence.EntityManager;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.keycloak.Config;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.events.EventType;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.credential.PasswordCredentialModel;
import org.keycloak.models.utils.ModelToRepresentation;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProvider;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProviderFactory;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

/**
 * {@code GET /admin/realms/{realm}/collecte-activations/groups/{id}}: for each child group of the
 * group (a groupement's adherents), each member with what the follow-up of activations needs, in
 * one call instead of one listing per adherent and two reads per person:
 * {@code {"<child id>": [{"user": <the representation GET /groups/{child}/members gives>,
 * "passwordCreated": <ms or null>, "lastLogin": <ms of the latest LOGIN event, or null>}]}}.
 * {@code first}/{@code max} page the child groups. A read only, with Keycloak's own permission
 * checks: viewing the group and each child's members.
 * The last sign-in is looked up only for people with a password (nobody signs in without one).
 *
 * <p>Passwords and last sign-ins are read for the whole page in one query each, in JPQL on
 * Keycloak's own entities ({@code CredentialEntity}, {@code EventEntity}): Keycloak's APIs read
 * them one person at a time. To re-check at each Keycloak upgrade (the entities' fields), held
 * by {@code tests/integration/test_activations_read.py}. The event store must be the database
 * (Keycloak's default).
 */
public class ActivationsResource implements AdminRealmResourceProvider,
        AdminRealmResourceProviderFactory {

    public static final String PROVIDER_ID = "collecte-activations";
    /** Ids per query: under every supported database's limit of an IN list. */
    private static final int IN_LIMIT = 500;

    private KeycloakSession session;
    private RealmModel realm;
    private AdminPermissionEvaluator auth;

    @Override
    public Object getResource(KeycloakSession session, RealmModel realm,
            AdminPermissionEvaluator auth, AdminEventBuilder adminEvent) {
        ActivationsResource resource = new ActivationsResource();
        resource.session = session;
        resource.realm = realm;
        resource.auth = auth;
        return resource;
    }

    @GET
    @Path("groups/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, List<Map<String, Object>>> activations(@PathParam("id") String id,
            @QueryParam("first") Integer first, @QueryParam("max") Integer max) {
        GroupModel group = session.groups().getGroupById(realm, id);
        if (group == null) {
            throw new NotFoundException("Could not find group by id");
        }
        auth.groups().requireView(group);
        Map<String, List<UserModel>> members = new LinkedHashMap<>();
        // Children by name, a page at a time when asked: each call stays short.
        (first == null && max == null ? group.getSubGroupsStream()
                : group.getSubGroupsStream(first, max)).forEach(child -> {
            auth.groups().requireViewMembers(child);
            members.put(child.getId(), session.users().getGroupMembersStream(realm, child).toList());
        });
        List<String> ids = members.values().stream().flatMap(List::stream).map(UserModel::getId)
                .distinct().toList();
        Map<String, Long> created = passwordsCreated(ids);
        Map<String, Long> lastLogins = lastLogins(ids.stream().filter(created::containsKey).toList());
        Map<String, List<Map<String, Object>>> found = new LinkedHashMap<>();
        members.forEach((child, users) -> found.put(child, users.stream()
                .map(user -> activation(user, created.get(user.getId()), lastLogins.get(user.getId())))
                .toList()));
        return found;
    }

    /** User id → when their password was made, for those of {@code ids} who have one: one query
     *  for the page (a credential read per person was most of this read's time). */
    private Map<String, Long> passwordsCreated(List<String> ids) {
        Map<String, Long> created = new HashMap<>();
        for (List<String> chunk : chunks(ids)) {
            entityManager().createQuery("select c.user.id, c.createdDate from CredentialEntity c"
                    + " where c.type = :type and c.user.id in :ids", Object[].class)
                    .setParameter("type", PasswordCredentialModel.TYPE).setParameter("ids", chunk)
                    .getResultStream()
                    .forEach(row -> created.merge((String) row[0], createdOrZero(row[1]), Math::min));
        }
        return created;
    }

    private static Long createdOrZero(Object value) {
        return value instanceof Long millis ? millis : 0L;
    }

    /** User id → time of their latest recorded LOGIN event, for those of {@code ids} who have
     *  one: one query for the page, on the event store's table (Keycloak's own event query
     *  takes one user at a time). */
    private Map<String, Long> lastLogins(List<String> ids) {
        Map<String, Long> found = new HashMap<>();
        if (ids.isEmpty()) {
            return found;
        }
        for (List<String> chunk : chunks(ids)) {
            entityManager().createQuery("select e.userId, max(e.time) from EventEntity e"
                    + " where e.realmId = :realm and e.type = :type and e.userId in :ids"
                    + " group by e.userId", Object[].class)
                    .setParameter("realm", realm.getId())
                    .setParameter("type", EventType.LOGIN.name()).setParameter("ids", chunk)
                    .getResultStream()
                    .forEach(row -> found.put((String) row[0], ((Number) row[1]).longValue()));
        }
        return found;
    }

    private EntityManager entityManager() {
        return session.getProvider(JpaConnectionProvider.class).getEntityManager();
    }

    /** {@code ids} by pieces a database's IN list takes everywhere. */
    private static List<List<String>> chunks(List<String> ids) {
        List<List<String>> pieces = new ArrayList<>();
        for (int start = 0; start < ids.size(); start += IN_LIMIT) {
            pieces.add(ids.subList(start, Math.min(ids.size(), start + IN_LIMIT)));
        }
        return pieces;
    }

    private Map<String, Object> activation(UserModel user, Long created, Long lastLogin) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("user", ModelToRepresentation.toRepresentation(session, realm, user));
        entry.put("passwordCreated", created);
        entry.put("lastLogin", lastLogin);
        return entry;
    }

    @Override
    public AdminRealmResourceProvider create(KeycloakSession session) {
        return this;
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
}
