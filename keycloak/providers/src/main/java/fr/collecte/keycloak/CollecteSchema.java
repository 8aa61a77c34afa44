package fr.collecte.keycloak;

import java.util.List;

/**
 * Names of the realm's data model that the user-profile rules read: user attributes, group
 * paths and attributes, realm roles. Kept here once for the Java side (the portal has its own,
 * in Python; the user profile itself is {@code keycloak/user-profile.json}).
 */
public final class CollecteSchema {

    /** The three functions a person holds, each a multivalued attribute of {@code SIREN/lot}. */
    public static final String COLLECTION = "collecte";
    public static final String TECHNICAL = "technique";
    public static final String BILLING = "facturation";
    public static final List<String> FUNCTIONS = List.of(COLLECTION, TECHNICAL, BILLING);

    /** Written by the portal only (requests, invitation record, its own audit line). */
    public static final List<String> PORTAL_RECORDS = List.of(
            "demandesCollecte",
            "demandeCollecteSur",
            "demandeCollecteEnAttente",
            "invitationEnvoyeeLe",
            "invitationExpireLe",
            "derniereModification");

    /** An adherent is the group {@code /<groupement>/<SIREN>}; its lots are this attribute. */
    public static final String LOTS = "lots";
    /** A groupement's coordinators are the members of {@code /coordonnateurs/<groupement>}. */
    public static final String COORDINATORS_GROUP = "coordonnateurs";

    /** Realm role of a coordinator (with the marker group: both are needed). */
    public static final String COORDINATOR_ROLE = "coordonnateur";
    /** Realm role of the platform's staff; {@code support} and {@code coordonnateur} include it. */
    public static final String STAFF_ROLE = "equipe-plateforme";

    private CollecteSchema() {
    }

    /** The SIREN of a {@code SIREN/lot} value (the whole value when it has no slash). */
    public static String siren(String scope) {
        int slash = scope.indexOf('/');
        return slash < 0 ? scope : scope.substring(0, slash);
    }

    /** The lot of a {@code SIREN/lot} value; null when it has none. */
    public static String lot(String scope) {
        int slash = scope.indexOf('/');
        return slash < 0 ? null : scope.substring(slash + 1);
    }
}
