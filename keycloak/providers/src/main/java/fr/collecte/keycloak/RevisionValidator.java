package fr.collecte.keycloak;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.jboss.logging.Logger;
import org.keycloak.models.UserModel;
import org.keycloak.userprofile.AttributeContext;
import org.keycloak.userprofile.UserProfileAttributeValidationContext;
import org.keycloak.userprofile.UserProfileContext;
import org.keycloak.validate.SimpleValidator;
import org.keycloak.validate.ValidationContext;
import org.keycloak.validate.ValidationError;
import org.keycloak.validate.ValidatorConfig;

/**
 * On the attribute {@code revision}: an update of a user through the Admin API ({@code PUT
 * /users/{id}}, the portal, the tooling, the admin console) is accepted only if the revision it
 * sends back is the one stored — nobody changed the user since the writer read it. Else a 400
 * whose {@code field} is {@code revision}: the portal reads the user again and redoes its change,
 * the console shows the sentence. See {@link Revisions} for the lock that makes the check and
 * the write one step.
 *
 * <p>Creations (no user yet) and the user's own pages (the user does not see the attribute) are
 * not concerned.
 */
public class RevisionValidator implements SimpleValidator {

    public static final String ID = "collecte-revision";

    static final String CHANGED = "cette fiche a été modifiée par ailleurs depuis que vous l’avez "
            + "ouverte : rechargez-la, puis refaites votre modification.";

    private static final Logger LOG = Logger.getLogger(RevisionValidator.class);

    @Override
    public ValidationContext validate(Object input, String inputHint, ValidationContext context,
            ValidatorConfig config) {
        if (!(context instanceof UserProfileAttributeValidationContext profileContext)) {
            return context;
        }
        AttributeContext attribute = profileContext.getAttributeContext();
        UserModel user = attribute.getUser();
        if (user == null || attribute.getContext() != UserProfileContext.USER_API) {
            return context;
        }
        List<String> stored = Revisions.present(
                Revisions.lockedUserRevision(attribute.getSession(), user.getId()));
        List<String> sent = Revisions.present(values(input));
        if (!stored.equals(sent)) {
            LOG.infof("Écriture de %s refusée : révision %s envoyée, %s en base", user.getId(), sent,
                    stored);
            context.addError(new ValidationError(ID, Revisions.ATTRIBUTE, CHANGED));
        }
        return context;
    }

    private static List<String> values(Object input) {
        if (input instanceof Collection<?> collection) {
            return collection.stream().filter(Objects::nonNull).map(Object::toString).toList();
        }
        return input == null ? List.of() : List.of(input.toString());
    }

    @Override
    public String getId() {
        return ID;
    }
}
