package fr.collecte.keycloak;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.authorization.AuthorizationProvider;
import org.keycloak.authorization.AuthorizationProviderFactory;
import org.keycloak.authorization.fgap.AdminPermissionsSchema;
import org.keycloak.authorization.model.Policy;
import org.keycloak.authorization.model.Resource;
import org.keycloak.authorization.model.ResourceServer;
import org.keycloak.authorization.store.PolicyStore;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;
import org.keycloak.models.ClientModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.util.JsonSerialization;
import org.keycloak.representations.idm.GroupRepresentation;
import org.keycloak.representations.idm.authorization.DecisionStrategy;
import org.keycloak.representations.idm.authorization.ScopePermissionRepresentation;

/**
 * Keeps coordinators' fine-grained admin permissions (v2) in step with the adherents, as they are
 * written, whoever writes them: the portal's service account may not write permissions (it would
 * then be able to grant itself anything), the provisioning script ({@code collecte_kc.coordinators})
 * runs only now and then.
 *
 * <p>On each admin event creating or updating an adherent group {@code /<groupement>/<SIREN>}:
 * <ul>
 *   <li>the group joins the resources of the permission « coordonnateurs &lt;groupement&gt; :
 *       membres du groupement » (Keycloak 26 applies a Groups permission to the listed groups and
 *       their direct members only, not to subgroups);
 *   <li>each person named in a {@code principal.<lot>} attribute gets the permission
 *       « interlocuteur principal &lt;id&gt; » (Users {@code manage} and
 *       {@code manage-group-membership}, for holders of {@code manage-users} only), so that a
 *       coordinator may no longer modify, delete or move them.
 * </ul>
 * Nothing is done where the provisioning has not created the groupement's permission or the
 * « gestionnaires des utilisateurs » policy: no coordinator exists there yet, and
 * {@code ajouter-groupement} covers the existing adherents and principals when it runs. The
 * names and shapes are those of {@code collecte_kc/coordinators.py}, whose {@code synchroniser}
 * finds nothing to change after this listener (an integration test checks it).
 *
 * <p>Admin event listeners are called inside the request's transaction: the permission is
 * written with the group, or neither is (on failure the transaction is marked rollback-only).
 * Global: active in every realm without configuration; it acts only where admin permissions are
 * enabled and these names exist.
 */
public class CoordinatorPermissionsListener implements EventListenerProvider, EventListenerProviderFactory {

    public static final String PROVIDER_ID = "collecte-permissions-coordonnateurs";
    static final String PRINCIPAL_PREFIX = "principal.";
    static final String USER_MANAGERS_POLICY = "gestionnaires des utilisateurs";
    static final List<String> PRINCIPAL_SCOPES = List.of("manage", "manage-group-membership");

    private static final Logger LOG = Logger.getLogger(CoordinatorPermissionsListener.class);

    private final KeycloakSession session;

    public CoordinatorPermissionsListener() {
        this(null);
    }

    private CoordinatorPermissionsListener(KeycloakSession session) {
        this.session = session;
    }

    static String groupementPermission(String code) {
        return "coordonnateurs " + code + " : membres du groupement";
    }

    static String principalPermission(String userId) {
        return "interlocuteur principal " + userId;
    }

    @Override
    public void onEvent(Event event) {
        // user events: nothing to do
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        if (event.getResourceType() != ResourceType.GROUP || event.getError() != null
                || (event.getOperationType() != OperationType.CREATE
                        && event.getOperationType() != OperationType.UPDATE)) {
            return;
        }
        RealmModel realm = session.realms().getRealm(event.getRealmId());
        if (realm == null || !realm.isAdminPermissionsEnabled()) {
            return;
        }
        try {
            for (GroupModel adherent : adherents(realm, event)) {
                reconcile(realm, adherent);
            }
        } catch (RuntimeException error) {
            LOG.errorf(error, "Permissions des coordonnateurs non mises à jour (%s) : la modification "
                    + "est annulée", event.getResourcePath());
            session.getTransactionManager().setRollbackOnly();
        }
    }

    /** The adherent groups (second level) the event may have created or changed. */
    private List<GroupModel> adherents(RealmModel realm, AdminEvent event) {
        // groups/<id> (update, or creation at the top level) or groups/<parent>/children
        // (creation of a subgroup: the new id is only in the representation)
        String[] path = event.getResourcePath().split("/");
        if (path.length == 2) {
            GroupModel group = session.groups().getGroupById(realm, path[1]);
            return isAdherent(group) ? List.of(group) : List.of();
        }
        if (path.length != 3 || !"children".equals(path[2])) {
            return List.of();
        }
        GroupModel parent = session.groups().getGroupById(realm, path[1]);
        if (parent == null || parent.getParent() != null) {
            return List.of();
        }
        String created = createdId(event.getRepresentation());
        if (created != null) {
            GroupModel group = session.groups().getGroupById(realm, created);
            return isAdherent(group) ? List.of(group) : List.of();
        }
        // admin event details disabled in the realm: every adherent of the groupement
        return parent.getSubGroupsStream().toList();
    }

    private static boolean isAdherent(GroupModel group) {
        return group != null && group.getParent() != null && group.getParent().getParent() == null;
    }

    private static String createdId(String representation) {
        if (representation == null) {
            return null;
        }
        try {
            return JsonSerialization.readValue(representation, GroupRepresentation.class).getId();
        } catch (IOException error) {
            return null;
        }
    }

    private void reconcile(RealmModel realm, GroupModel adherent) {
        ClientModel client = realm.getAdminPermissionsClient();
        if (client == null) {
            return;
        }
        AuthorizationProviderFactory factory = (AuthorizationProviderFactory)
                session.getKeycloakSessionFactory().getProviderFactory(AuthorizationProvider.class);
        AuthorizationProvider authorization = factory.create(session, realm);
        ResourceServer server = authorization.getStoreFactory().getResourceServerStore().findByClient(client);
        if (server == null) {
            return;
        }
        PolicyStore policies = authorization.getStoreFactory().getPolicyStore();

        Policy members = policies.findByName(server, groupementPermission(adherent.getParent().getName()));
        if (members != null) {
            Resource resource = AdminPermissionsSchema.SCHEMA.getOrCreateResource(
                    session, server, AdminPermissionsSchema.GROUPS_RESOURCE_TYPE, adherent.getId());
            // the policies of this one group, not the permission's resources (one per adherent)
            if (policies.findByResource(server, resource).stream()
                    .noneMatch(policy -> policy.getId().equals(members.getId()))) {
                members.addResource(resource);
            }
        }

        Policy userManagers = policies.findByName(server, USER_MANAGERS_POLICY);
        if (userManagers == null) {
            return;
        }
        for (Map.Entry<String, List<String>> attribute : adherent.getAttributes().entrySet()) {
            if (!attribute.getKey().startsWith(PRINCIPAL_PREFIX)) {
                continue;
            }
            for (String userId : attribute.getValue()) {
                if (policies.findByName(server, principalPermission(userId)) == null
                        && session.users().getUserById(realm, userId) != null) {
                    policies.create(server, principalRepresentation(userId, userManagers.getId()));
                }
            }
        }
    }

    private static ScopePermissionRepresentation principalRepresentation(String userId, String policyId) {
        ScopePermissionRepresentation permission = new ScopePermissionRepresentation();
        permission.setName(principalPermission(userId));
        permission.setDescription("Interlocuteur principal d'un SIREN et d'un lot : modifiable et "
                + "supprimable par les gestionnaires des utilisateurs seulement, pas par les coordonnateurs.");
        permission.setResourceType(AdminPermissionsSchema.USERS_RESOURCE_TYPE);
        permission.addResource(userId);
        permission.addScope(PRINCIPAL_SCOPES.toArray(String[]::new));
        permission.addPolicy(policyId);
        permission.setDecisionStrategy(DecisionStrategy.UNANIMOUS);
        return permission;
    }

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new CoordinatorPermissionsListener(session);
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
