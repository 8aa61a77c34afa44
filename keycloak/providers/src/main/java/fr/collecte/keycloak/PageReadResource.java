package fr.collecte.keycloak;

import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.ForbiddenException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.keycloak.Config;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.jpa.entities.GroupEntity;
import org.keycloak.models.ClientModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.ModelToRepresentation;
import org.keycloak.representations.idm.GroupRepresentation;
import org.keycloak.representations.idm.UserRepresentation;
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
 * <p>
 * {@code POST /admin/realms/{realm}/collecte-pages/people/by-email} with a JSON list of at most
 * {@value #MAX_EMAILS} e-mail addresses: the people who have one of them, as {@code GET /users}
 * gives them (the bulk import's « who exists already? », one call per page of its file instead of
 * listing every person of the realm). The addresses are matched as Keycloak keeps them (lower
 * case) by one query on {@code UserEntity} per {@value #IN_LIMIT}. Reserved to whoever may view
 * every user of the realm (realm-management {@code view-users} or {@code manage-users}, the
 * master realm's administrators: {@code AdminPermissionEvaluator.users().requireView()}), since it
 * tells whether any address has an account.
 * <p>
 * {@code POST /admin/realms/{realm}/collecte-pages/adherents/by-siren} with a JSON list of at
 * most {@value #MAX_SIRENS} names: for each that names a group whose parent is a top-level group
 * (an adherent {@code /<groupement>/<SIREN>}), that parent's name — the bulk import's « which of
 * these SIRENs are adherents of another groupement? », one query per {@value #IN_LIMIT} names
 * instead of listing every groupement's adherents (or one search per SIREN). Reserved to whoever
 * may view every group of the realm ({@code AdminPermissionEvaluator.groups().requireView()}):
 * a coordinator sees their own groupement only.
 */
public class PageReadResource implements AdminRealmResourceProvider,
        AdminRealmResourceProviderFactory {

    public static final String PROVIDER_ID = "collecte-pages";
    static final String REALM_MANAGEMENT = "realm-management";
    static final String REQUIRED_ROLE = "view-users";
    /** Addresses per by-email call: a page of an import file. */
    static final int MAX_EMAILS = 1000;
    /** Names per by-siren call: a page of an import file's SIRENs. */
    static final int MAX_SIRENS = 1000;
    /** Addresses per query: under every supported database's limit of an IN list. */
    private static final int IN_LIMIT = 500;

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

    @POST
    @Path("people/by-email")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public List<UserRepresentation> peopleByEmail(List<String> emails) {
        auth.users().requireView();
        if (emails == null || emails.size() > MAX_EMAILS) {
            throw new BadRequestException("A list of at most " + MAX_EMAILS + " e-mails");
        }
        List<String> wanted = emails.stream().filter(Objects::nonNull)
                .map(email -> email.trim().toLowerCase(Locale.ROOT)).distinct().toList();
        List<String> ids = new ArrayList<>();
        for (int start = 0; start < wanted.size(); start += IN_LIMIT) {
            ids.addAll(session.getProvider(JpaConnectionProvider.class).getEntityManager()
                    .createQuery("select u.id from UserEntity u where u.realmId = :realm"
                            + " and u.email in :emails", String.class)
                    .setParameter("realm", realm.getId())
                    .setParameter("emails", wanted.subList(start,
                            Math.min(start + IN_LIMIT, wanted.size())))
                    .getResultList());
        }
        return ids.stream().map(id -> session.users().getUserById(realm, id))
                .filter(Objects::nonNull)
                .map(user -> ModelToRepresentation.toRepresentation(session, realm, user))
                .toList();
    }

    @POST
    @Path("adherents/by-siren")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, String> adherentsBySiren(List<String> sirens) {
        auth.groups().requireView();
        if (sirens == null || sirens.size() > MAX_SIRENS) {
            throw new BadRequestException("A list of at most " + MAX_SIRENS + " names");
        }
        List<String> wanted = sirens.stream().filter(Objects::nonNull).distinct().toList();
        Map<String, String> groupements = new TreeMap<>();
        for (int start = 0; start < wanted.size(); start += IN_LIMIT) {
            session.getProvider(JpaConnectionProvider.class).getEntityManager()
                    .createQuery("select g.name, p.name from GroupEntity g, GroupEntity p"
                            + " where g.realm = :realm and g.parentId = p.id"
                            + " and p.parentId = :top and g.name in :names", Object[].class)
                    .setParameter("realm", realm.getId())
                    .setParameter("top", GroupEntity.TOP_PARENT_ID)
                    .setParameter("names", wanted.subList(start,
                            Math.min(start + IN_LIMIT, wanted.size())))
                    .getResultList()
                    .forEach(row -> groupements.put((String) row[0], (String) row[1]));
        }
        return groupements;
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
