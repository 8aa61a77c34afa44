package fr.collecte.keycloak;

import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.keycloak.Config;
import org.keycloak.models.ClientModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.ModelToRepresentation;
import org.keycloak.representations.idm.GroupRepresentation;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProvider;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProviderFactory;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

/**
 * {@code GET /admin/realms/{realm}/collecte-pages/people/{id}[?siren=…]}: what one portal page
 * needs about a person, read in one call and always fresh (from the database and Keycloak's own
 * caches, which its writes invalidate): the user as {@code GET /users/{id}} gives it, their groups
 * with path and attributes ({@code GET /users/{id}/groups?briefRepresentation=false}), their
 * effective realm roles ({@code …/role-mappings/realm/composite}) and, with {@code siren}, the
 * members (with attributes) of the adherent group {@code /<groupement>/<siren>} — only when the
 * person is a member of it.
 * <p>
 * Reserved to holders of realm-management {@code view-users} (the portal's service account, the
 * platform's administrators): a coordinator, whose fine-grained permissions cover their own
 * groupement only, and any member are refused (403), whatever user they ask for.
 */
public class PageReadResource implements AdminRealmResourceProvider,
        AdminRealmResourceProviderFactory {

    public static final String PROVIDER_ID = "collecte-pages";
    static final String REALM_MANAGEMENT = "realm-management";
    static final String REQUIRED_ROLE = "view-users";

    private KeycloakSession session;
    private RealmModel realm;
    private AdminPermissionEvaluator auth;

    @Override
    public Object getResource(KeycloakSession session, RealmModel realm,
            AdminPermissionEvaluator auth, AdminEventBuilder adminEvent) {
        PageReadResource resource = new PageReadResource();
        resource.session = session;
        resource.realm = realm;
        resource.auth = auth;
        return resource;
    }

    @GET
    @Path("people/{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> person(@PathParam("id") String id,
            @QueryParam("siren") String siren) {
        // The role itself, not a per-user permission: asked before anything is looked up, so
        // that a refused caller learns nothing, not even whether the user exists.
        ClientModel management = realm.getClientByClientId(REALM_MANAGEMENT);
        if (management == null || !auth.adminAuth().hasAppRole(management, REQUIRED_ROLE)) {
            throw new ForbiddenException();
        }
        UserModel user = session.users().getUserById(realm, id);
        if (user == null) {
            throw new NotFoundException("Could not find user");
        }
        List<GroupModel> groups = user.getGroupsStream().toList();
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("user", ModelToRepresentation.toRepresentation(session, realm, user));
        page.put("groups", groups.stream().map(PageReadResource::group).toList());
        page.put("realmRoles", realm.getRolesStream().filter(user::hasRole)
                .map(RoleModel::getName).sorted().toList());
        if (siren != null) {
            groups.stream()
                    .filter(g -> siren.equals(g.getName()) && g.getParent() != null
                            && g.getParent().getParent() == null)
                    .findFirst()
                    .ifPresent(adherent -> page.put("members", session.users()
                            .getGroupMembersStream(realm, adherent)
                            .map(m -> ModelToRepresentation.toRepresentation(session, realm, m))
                            .toList()));
        }
        return page;
    }

    private static GroupRepresentation group(GroupModel group) {
        GroupRepresentation representation = ModelToRepresentation.toRepresentation(group, true);
        representation.setPath(ModelToRepresentation.buildGroupPath(group));
        return representation;
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
