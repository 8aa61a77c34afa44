package fr.collecte.keycloak;

import java.util.List;
import org.keycloak.models.UserModel;

/**
 * On {@code collecte}, {@code technique} and {@code facturation}: a caller without
 * {@code manage-users} may add a {@code SIREN/lot} only for an adherent of a groupement he
 * coordinates and one of its lots, and remove one only inside his groupements. Values already
 * on the user and left as they are stay allowed: a person in two groupements stays editable by
 * each coordinator.
 */
public class FunctionsInOwnGroupementValidator extends RestrictedWriteValidator {

    public static final String ID = "collecte-fonction-du-groupement";

    static final String NOT_YOURS = "n’est pas un adhérent de votre groupement avec ce lot : "
            + "vous ne pouvez attribuer une fonction que pour un SIREN de votre groupement et "
            + "l’un de ses lots.";
    static final String NOT_YOURS_TO_REMOVE = "cette fonction relève d’un autre groupement : "
            + "seul le support de la plateforme peut la retirer.";

    @Override
    String refusal(RestrictedWriter writer, UserModel user, List<String> stored,
            List<String> sent) {
        for (String value : sent) {
            if (!stored.contains(value) && !writer.mayGrant(value)) {
                return shown(value) + NOT_YOURS;
            }
        }
        for (String value : stored) {
            if (!sent.contains(value) && !writer.covers(value)) {
                return shown(value) + NOT_YOURS_TO_REMOVE;
            }
        }
        return null;
    }

    @Override
    public String getId() {
        return ID;
    }
}
