package fr.collecte.keycloak;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.keycloak.Config;
import org.keycloak.credential.CredentialModel;
import org.keycloak.events.Event;
import org.keycloak.events.EventStoreProvider;
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
 */
public class ActivationsResource implements AdminRealmResourceProvider,
        AdminRealmResourceProviderFactory {

    public static final String PROVIDER_ID = "collecte-activations";

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
        EventStoreProvider events = session.getProvider(EventStoreProvider.class);
        Map<String, List<Map<String, Object>>> found = new LinkedHashMap<>();
        // Children by name, a page at a time when asked: each call stays short.
        (first == null && max == null ? group.getSubGroupsStream()
                : group.getSubGroupsStream(first, max)).forEach(child -> {
            auth.groups().requireViewMembers(child);
            List<Map<String, Object>> members = new ArrayList<>();
            session.users().getGroupMembersStream(realm, child)
                    .forEach(user -> members.add(activation(user, events)));
            found.put(child.getId(), members);
        });
        return found;
    }

    private Map<String, Object> activation(UserModel user, EventStoreProvider events) {
        Long created = user.credentialManager()
                .getStoredCredentialsByTypeStream(PasswordCredentialModel.TYPE)
                .map(CredentialModel::getCreatedDate).findFirst().orElse(null);
        Long lastLogin = null;
        if (created != null && events != null) {
            lastLogin = events.createQuery().realm(realm.getId()).user(user.getId())
                    .type(EventType.LOGIN).orderByDescTime().maxResults(1).getResultStream()
                    .findFirst().map(Event::getTime).orElse(null);
        }
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
