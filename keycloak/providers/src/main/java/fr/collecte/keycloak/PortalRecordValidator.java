package fr.collecte.keycloak;

import java.util.HashSet;
import java.util.List;
import org.keycloak.models.UserModel;

/**
 * On the attributes only the portal writes ({@link CollecteSchema#PORTAL_RECORDS}: collection
 * requests, the invitation record, its audit line): a caller without {@code manage-users} may
 * not change them — a coordinator must not forge a request or an invitation. The same values
 * sent back (the console re-sends every attribute) are accepted.
 */
public class PortalRecordValidator extends RestrictedWriteValidator {

    public static final String ID = "collecte-tenu-par-le-portail";

    static final String REFUSAL = "Information tenue par le portail de la plateforme : elle ne "
            + "se modifie pas ici.";

    @Override
    String refusal(RestrictedWriter writer, UserModel user, List<String> stored,
            List<String> sent) {
        return new HashSet<>(stored).equals(new HashSet<>(sent)) ? null : REFUSAL;
    }

    @Override
    public String getId() {
        return ID;
    }
}
