package fr.collecte.keycloak;

import java.util.List;
import java.util.Locale;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;

/**
 * On {@code email} (the realm's sign-in name: {@code registrationEmailAsUsername}, so the
 * username follows it): a caller without {@code manage-users} may not change the address of a
 * person who has activated their space (any stored credential), of a member of the platform's
 * staff (realm role {@code equipe-plateforme}, composites included), nor of a person holding a
 * function outside the caller's groupements. Otherwise the invitation or « Mot de passe
 * oublié » would reach a mailbox of the caller's, who would then choose the password. The
 * address of a colleague not yet activated may still be corrected (a typo before the
 * invitation); a creation is left to the permissions.
 */
public class ProtectedEmailValidator extends RestrictedWriteValidator {

    public static final String ID = "collecte-email-protege";

    static final String ACTIVATED = "Cette personne a activé son espace : seul le support de la "
            + "plateforme peut changer son adresse e-mail, qui lui sert à se connecter.";
    static final String STAFF = "Adresse d’un membre de l’équipe de la plateforme : seul le "
            + "support de la plateforme peut la changer.";
    static final String ELSEWHERE = "Cette personne est aussi interlocuteur d’un autre "
            + "groupement : seul le support de la plateforme peut changer son adresse e-mail.";

    @Override
    String refusal(RestrictedWriter writer, UserModel user, List<String> stored,
            List<String> sent) {
        if (user == null || normalised(stored).equals(normalised(sent))) {
            return null;
        }
        if (user.credentialManager().getStoredCredentialsStream().findAny().isPresent()) {
            return ACTIVATED;
        }
        RoleModel staff = writer.realm().getRole(CollecteSchema.STAFF_ROLE);
        if (staff != null && user.hasRole(staff)) {
            return STAFF;
        }
        boolean elsewhere = CollecteSchema.FUNCTIONS.stream()
                .flatMap(user::getAttributeStream)
                .anyMatch(scope -> !writer.covers(scope));
        return elsewhere ? ELSEWHERE : null;
    }

    /** Keycloak stores addresses in lower case. */
    private static String normalised(List<String> values) {
        return values.isEmpty() ? "" : values.get(0).trim().toLowerCase(Locale.ROOT);
    }

    @Override
    public String getId() {
        return ID;
    }
}
