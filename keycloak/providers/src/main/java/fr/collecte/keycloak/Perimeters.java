package fr.collecte.keycloak;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.keycloak.models.GroupModel;
import org.keycloak.models.UserModel;

/**
 * The SIREN/lots where a person is a collection contact under the platform's one authority rule
 * (the Python twin is {@code portal/authority.py}): a value {@code SIREN/lot} of the attribute
 * {@code collecte} counts only if the person is a member of the adherent group
 * {@code /<groupement>/<SIREN>} (a child of a top-level group other than {@code /coordonnateurs})
 * and the lot is among that group's {@code lots}. An attribute value alone gives nothing: a
 * coordinator may write any well-formed value, never membership of another groupement's adherent.
 *
 * <p>One implementation, read by the sign-in condition ({@link NoPerimeterCondition}), the end of
 * sessions ({@link SessionRevocationListener}) and the claim {@code perimetres}
 * ({@link PerimetersProtocolMapper}), so that they all agree with the portal.
 */
public final class Perimeters {

    /** A SIREN/lot where the person acts, with what an application shows of it. */
    public record Perimeter(String siren, String lot, String raisonSociale, boolean principal) {

        /** The claim's object: {@code siren}, {@code lot}, {@code raisonSociale}, {@code principal}. */
        public Map<String, Object> toClaim() {
            Map<String, Object> claim = new LinkedHashMap<>();
            claim.put("siren", siren);
            claim.put("lot", lot);
            claim.put("raisonSociale", raisonSociale);
            claim.put("principal", principal);
            return claim;
        }
    }

    static final String RAISON_SOCIALE = "raisonSociale";
    static final String PRINCIPAL_PREFIX = "principal.";
    private static final Pattern SIREN = Pattern.compile("[0-9]{9}");
    private static final Comparator<Perimeter> ORDER =
            Comparator.comparing(Perimeter::siren).thenComparing(Perimeter::lot);

    private Perimeters() {
    }

    /** The person's perimeters, sorted by SIREN then lot; empty when the rule holds nowhere. */
    public static List<Perimeter> of(UserModel user) {
        List<String> values = user.getAttributeStream(CollecteSchema.COLLECTION)
                .filter(Objects::nonNull)
                .distinct()
                .toList();
        if (values.isEmpty()) {
            return List.of(); // no group read for a technical or billing contact
        }
        Map<String, GroupModel> adherents = adherentGroups(user);
        List<Perimeter> found = new ArrayList<>();
        for (String value : values) {
            String siren = CollecteSchema.siren(value);
            String lot = CollecteSchema.lot(value);
            GroupModel adherent = adherents.get(siren);
            if (lot == null || adherent == null
                    || adherent.getAttributeStream(CollecteSchema.LOTS).noneMatch(lot::equals)) {
                continue;
            }
            String name = adherent.getFirstAttribute(RAISON_SOCIALE);
            boolean principal = user.getId().equals(adherent.getFirstAttribute(PRINCIPAL_PREFIX + lot));
            found.add(new Perimeter(siren, lot, name == null ? "" : name, principal));
        }
        found.sort(ORDER);
        return found;
    }

    /** Whether the person has at least one perimeter (the sign-in rule of collection contacts). */
    public static boolean any(UserModel user) {
        return !of(user).isEmpty();
    }

    /** SIREN → adherent group, among the groups the person is a direct member of. */
    private static Map<String, GroupModel> adherentGroups(UserModel user) {
        Map<String, GroupModel> adherents = new HashMap<>();
        user.getGroupsStream().forEach(group -> {
            GroupModel parent = group.getParent();
            if (parent != null && parent.getParent() == null
                    && !CollecteSchema.COORDINATORS_GROUP.equals(parent.getName())
                    && SIREN.matcher(group.getName()).matches()) {
                adherents.put(group.getName(), group);
            }
        });
        return adherents;
    }
}
