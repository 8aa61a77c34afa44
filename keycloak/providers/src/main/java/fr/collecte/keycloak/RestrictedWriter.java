package fr.collecte.keycloak;

import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.keycloak.Token;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.representations.JsonWebToken;

/**
 * A caller of the Admin API who does not manage the realm's users — in practice a coordinator,
 * whose fine-grained permissions let him write any attribute of the members of his groupement.
 * The user-profile rules ({@link RestrictedWriteValidator}) limit what such a caller may write.
 *
 * <p>{@link #of} returns null, meaning « not restricted », for a request without a bearer token
 * (the user's own pages, an import at start-up: the Admin API alone records a bearer token,
 * see {@link PasswordChosenByUserPolicy}) and for a caller holding {@code manage-users} (the
 * portal's service account, the provisioning, the platform's administrators).
 */
final class RestrictedWriter {

    private static final Pattern SIREN = Pattern.compile("[0-9]{9}");

    private final KeycloakSession session;
    private final RealmModel realm;
    /** Null when the token names nobody of this realm: such a caller has no groupement. */
    private final UserModel caller;
    private Set<String> groupements;

    private RestrictedWriter(KeycloakSession session, RealmModel realm, UserModel caller) {
        this.session = session;
        this.realm = realm;
        this.caller = caller;
    }

    /** The restricted caller of this request, or null when the caller is not restricted. */
    static RestrictedWriter of(KeycloakSession session) {
        Token bearer = session.getContext().getBearerToken();
        RealmModel realm = session.getContext().getRealm();
        if (bearer == null || realm == null) {
            return null;
        }
        if (!(bearer instanceof JsonWebToken token)) {
            return new RestrictedWriter(session, realm, null);
        }
        if (PasswordChosenByUserPolicy.managesUsers(session, realm, token)) {
            return null;
        }
        RealmModel callersRealm = PasswordChosenByUserPolicy.callersRealm(session, token);
        boolean sameRealm = callersRealm != null && callersRealm.getId().equals(realm.getId());
        UserModel caller = sameRealm ? PasswordChosenByUserPolicy.caller(session, token) : null;
        return new RestrictedWriter(session, realm, caller);
    }

    /** For the server's log: who wrote. */
    @Override
    public String toString() {
        return caller == null ? "un appelant inconnu" : caller.getUsername();
    }

    /** The realm being written. */
    RealmModel realm() {
        return realm;
    }

    /**
     * Codes of the groupements this caller coordinates: the realm role {@code coordonnateur}
     * and membership of {@code /coordonnateurs/<code>}, both (either alone gives nothing).
     */
    Set<String> groupements() {
        if (groupements == null) {
            RoleModel coordinator = realm.getRole(CollecteSchema.COORDINATOR_ROLE);
            groupements = caller == null || coordinator == null || !caller.hasRole(coordinator)
                    ? Set.of()
                    : caller.getGroupsStream()
                            .filter(RestrictedWriter::isCoordinatorsMarker)
                            .map(GroupModel::getName)
                            .collect(Collectors.toUnmodifiableSet());
        }
        return groupements;
    }

    private static boolean isCoordinatorsMarker(GroupModel group) {
        GroupModel parent = group.getParent();
        return parent != null && parent.getParentId() == null
                && CollecteSchema.COORDINATORS_GROUP.equals(parent.getName());
    }

    /** The adherent {@code /<code>/<SIREN>} in one of the caller's groupements, else null. */
    private GroupModel adherent(String scope) {
        String siren = CollecteSchema.siren(scope);
        if (!SIREN.matcher(siren).matches()) {
            return null;
        }
        for (String code : groupements()) {
            GroupModel group = KeycloakModelUtils.findGroupByPath(session, realm,
                    "/" + code + "/" + siren);
            if (group != null) {
                return group;
            }
        }
        return null;
    }

    /** Whether the caller may give someone a function for this {@code SIREN/lot}. */
    boolean mayGrant(String scope) {
        GroupModel adherent = adherent(scope);
        String lot = CollecteSchema.lot(scope);
        return adherent != null && lot != null
                && adherent.getAttributeStream(CollecteSchema.LOTS).anyMatch(lot::equals);
    }

    /** Whether the {@code SIREN/lot} is the caller's business (a lot since removed included). */
    boolean covers(String scope) {
        return adherent(scope) != null;
    }
}
