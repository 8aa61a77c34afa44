package fr.collecte.keycloak;

import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.keycloak.models.UserModel;
import org.keycloak.userprofile.AttributeContext;
import org.keycloak.userprofile.UserProfileAttributeValidationContext;
import org.keycloak.validate.SimpleValidator;
import org.keycloak.validate.ValidationContext;
import org.keycloak.validate.ValidationError;
import org.keycloak.validate.ValidatorConfig;

/**
 * Base of the user-profile validators that limit what a {@link RestrictedWriter} (a caller of
 * the Admin API without {@code manage-users}) may write; referenced by id in the
 * {@code validations} of attributes in {@code keycloak/user-profile.json}.
 *
 * <p>Keycloak runs them on every write that goes through the user profile, before anything is
 * stored: {@code POST /users} (no user yet), {@code PUT /users/{id}} (the user as stored), the
 * user's own pages (no bearer token: not restricted). Each validator compares the values sent
 * with the values stored, so the admin console, which re-sends every attribute of the form,
 * keeps working for what is unchanged. A refusal is a 400 whose {@code field} is the attribute
 * and whose {@code errorMessage} is our French sentence: the Admin API returns it as is, and the
 * console shows it. It must hold no ASCII apostrophe nor brace, which message formatting reads.
 */
abstract class RestrictedWriteValidator implements SimpleValidator {

    private static final Logger LOG = Logger.getLogger(RestrictedWriteValidator.class);

    @Override
    public ValidationContext validate(Object input, String inputHint, ValidationContext context,
            ValidatorConfig config) {
        if (!(context instanceof UserProfileAttributeValidationContext profileContext)) {
            return context;
        }
        AttributeContext attribute = profileContext.getAttributeContext();
        RestrictedWriter writer = RestrictedWriter.of(attribute.getSession());
        if (writer == null) {
            return context;
        }
        UserModel user = attribute.getUser();
        String name = attribute.getMetadata().getName();
        List<String> stored = user == null ? List.of() : present(user.getAttributeStream(name));
        String refusal = refusal(writer, user, stored, present(values(input)));
        if (refusal != null) {
            LOG.infof("Écriture refusée (%s) de %s pour %s par %s (groupements %s)", getId(), name,
                    user == null ? "une création" : user.getId(), writer, writer.groupements());
            context.addError(new ValidationError(getId(), name, refusal));
        }
        return context;
    }

    /**
     * Null when this write of the attribute is allowed to {@code writer}, else the French
     * sentence saying why not. {@code user} is null for a creation.
     */
    abstract String refusal(RestrictedWriter writer, UserModel user, List<String> stored,
            List<String> sent);

    private static Stream<String> values(Object input) {
        if (input instanceof Collection<?> collection) {
            return collection.stream().filter(Objects::nonNull).map(Object::toString);
        }
        return input == null ? Stream.empty() : Stream.of(input.toString());
    }

    /** Blank values are no values (the console sends an emptied field as ""). */
    private static List<String> present(Stream<String> values) {
        return values.filter(value -> !value.isBlank()).collect(Collectors.toList());
    }

    /** A value echoed in a message only if it cannot disturb message formatting. */
    static String shown(String value) {
        return value.matches("[0-9A-Za-z/-]{1,40}") ? value + " : " : "";
    }
}
