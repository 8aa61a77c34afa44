package fr.collecte.keycloak;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.representations.idm.GroupRepresentation;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.GroupResource;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProvider;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProviderFactory;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

/**
 * {@code PUT /admin/realms/{realm}/collecte-revisions/groups/{id}}: Keycloak's own group update
 * ({@code PUT /groups/{id}}, same body, same permissions, same admin event — path
 * {@code groups/{id}} —, no renaming), made conditional.
 * Groups have no user profile to validate a write, so the check that {@link RevisionValidator}
 * makes for users is made here, before the update, under the group row's lock:
 * <ul>
 *   <li>the {@code revision} sent is the one stored (nobody changed the group since it was read),
 *   else 409;</li>
 *   <li>an adherent's principal ({@code principal.<lot>}), once written, is never replaced by
 *   another person, else 409 (a removal is the portal undoing a grant that failed).</li>
 * </ul>
 * A write that a listener had rolled back (it marks the transaction rollback-only) is answered
 * 409 too, not 204: nothing was stored.
 * The portal writes adherents' groups only through here.
 */
public class RevisionedGroupResource implements AdminRealmResourceProvider,
        AdminRealmResourceProviderFactory {

    public static final String PROVIDER_ID = "collecte-revisions";
    static final String PRINCIPAL_PREFIX = "principal.";

    private static final Logger LOG = Logger.getLogger(RevisionedGroupResource.class);

    private KeycloakSession session;
    private RealmModel realm;
    private AdminPermissionEvaluator auth;
    private AdminEventBuilder adminEvent;

    @Override
    public Object getResource(KeycloakSession session, RealmModel realm,
            AdminPermissionEvaluator auth, AdminEventBuilder adminEvent) {
        RevisionedGroupResource resource = new RevisionedGroupResource();
        resource.session = session;
        resource.realm = realm;
        resource.auth = auth;
        resource.adminEvent = adminEvent;
        return resource;
    }

    @PUT
    @Path("groups/{id}")
    @Consumes(MediaType.APPLICATION_JSON)
    public Response updateGroup(@PathParam("id") String id, GroupRepresentation representation) {
        GroupModel group = session.groups().getGroupById(realm, id);
        if (group == null) {
            throw new NotFoundException("Could not find group by id");
        }
        auth.groups().requireManage(group);
        Map<String, List<String>> sent = representation.getAttributes() == null ? Map.of()
                : representation.getAttributes();
        List<String> stored = Revisions.present(
                Revisions.lockedGroupAttribute(session, id, Revisions.ATTRIBUTE));
        if (!stored.equals(Revisions.present(sent.get(Revisions.ATTRIBUTE)))) {
            LOG.infof("Écriture du groupe %s refusée : révision périmée", id);
            return conflict("revision", "Ce groupe a été modifié par ailleurs depuis sa lecture.");
        }
        for (String name : Revisions.committedGroupAttributeNames(session, id, PRINCIPAL_PREFIX)) {
            List<String> principal = Revisions.present(
                    Revisions.committedGroupAttribute(session, id, name));
            List<String> replacement = Revisions.present(sent.get(name));
            if (!principal.isEmpty() && !replacement.isEmpty() && !principal.equals(replacement)) {
                LOG.infof("Écriture du groupe %s refusée : %s ne change pas", id, name);
                return conflict(name, "L’interlocuteur principal ne peut pas être changé.");
            }
        }
        if (representation.getName() != null && !representation.getName().equals(group.getName())) {
            return conflict("name", "Ce chemin ne renomme pas un groupe.");
        }
        // Keycloak's own update (GroupResource.updateGroup without its renaming checks), and the
        // admin event Keycloak's PUT /groups/{id} sends, with that path: the listeners
        // (CoordinatorPermissionsListener, RevisionListener…) see the same write either way.
        GroupResource.updateGroup(representation, group, realm, session);
        adminEvent.operation(OperationType.UPDATE).resource(ResourceType.GROUP)
                .resourcePath("groups", id).representation(representation).success();
        if (session.getTransactionManager().getRollbackOnly()) {
            // A listener could not finish its part (say two writes naming the same new principal
            // at once, both creating their permission) and had the whole change rolled back:
            // Keycloak would still answer 204. Said as a conflict, the writer reads again and
            // redoes its change, which then finds the other writer's work done.
            LOG.infof("Écriture du groupe %s annulée par un écouteur", id);
            return conflict("revision",
                    "Ce groupe n’a pas pu être modifié : relisez-le et recommencez.");
        }
        return Response.noContent().build();
    }

    private static Response conflict(String field, String message) {
        return Response.status(Response.Status.CONFLICT)
                .entity(Map.of("field", field, "errorMessage", message))
                .type(MediaType.APPLICATION_JSON).build();
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
