package fr.collecte.keycloak;

import org.keycloak.Config;
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
import org.keycloak.models.UserModel;

/**
 * Gives a user or a group a new {@link Revisions revision} after each creation or update made
 * through the Admin API, whoever made it (the portal, the tooling, the admin console): a writer
 * that read the record before sends back the old revision and is refused.
 *
 * <p>Admin event listeners are called inside the request's transaction (as {@link
 * SessionRevocationListener}): the new revision is committed with the change, or neither is.
 * Global: active in every realm without configuration.
 */
public class RevisionListener implements EventListenerProvider, EventListenerProviderFactory {

    public static final String PROVIDER_ID = "collecte-revisions";

    private final KeycloakSession session;

    public RevisionListener() {
        this(null);
    }

    private RevisionListener(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public void onEvent(Event event) {
        // user events: the user's own pages change no attribute the portal writes
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        if (event.getError() != null || event.getResourcePath() == null) {
            return;
        }
        OperationType operation = event.getOperationType();
        if (operation != OperationType.UPDATE && operation != OperationType.CREATE) {
            return;
        }
        String[] path = event.getResourcePath().split("/");
        RealmModel realm = session.realms().getRealm(event.getRealmId());
        if (realm == null || path.length != 2) {
            return;
        }
        if (event.getResourceType() == ResourceType.USER && "users".equals(path[0])) {
            UserModel user = session.users().getUserById(realm, path[1]);
            if (user != null) {
                user.setSingleAttribute(Revisions.ATTRIBUTE, Revisions.newToken());
            }
        } else if (event.getResourceType() == ResourceType.GROUP && "groups".equals(path[0])) {
            GroupModel group = session.groups().getGroupById(realm, path[1]);
            if (group != null) {
                group.setSingleAttribute(Revisions.ATTRIBUTE, Revisions.newToken());
            }
        }
    }

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new RevisionListener(session);
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
