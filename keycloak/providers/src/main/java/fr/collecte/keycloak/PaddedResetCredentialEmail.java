package fr.collecte.keycloak;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.authenticators.resetcred.ResetCredentialEmail;
import org.keycloak.models.AuthenticatorConfigModel;
import org.keycloak.models.DefaultActionTokenKey;
import org.keycloak.models.UserModel;
import org.keycloak.provider.ProviderConfigProperty;

/**
 * Keycloak's "Send Reset Email" step, answering after the same minimum time for every address.
 *
 * <p>The parent answers the same text for known and unknown e-mails, but for a known one it
 * renders and sends the mail before answering, so the response time alone tells whether an
 * account exists. Rule of the platform: no account enumeration, in text or in timing. We pad the
 * first pass (send the mail, or silently skip an unknown or disabled address, which the previous
 * step has cleared to no user) up to a configured minimum, which must exceed the slowest normal
 * send. The pass that runs when the user comes back through the link reveals nothing and is not
 * padded.
 */
public class PaddedResetCredentialEmail extends ResetCredentialEmail {

    public static final String PROVIDER_ID = "collecte-reset-credential-email";
    public static final String MINIMUM_RESPONSE_MILLIS = "minimumResponseMillis";
    public static final long DEFAULT_MINIMUM_RESPONSE_MILLIS = 1500;

    private static final Logger LOG = Logger.getLogger(PaddedResetCredentialEmail.class);

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        if (backFromEmailLink(context)) {
            super.authenticate(context);
            return;
        }
        long deadline = System.nanoTime()
                + TimeUnit.MILLISECONDS.toNanos(minimumMillis(context.getAuthenticatorConfig()));
        try {
            super.authenticate(context);
        } finally {
            // Also when the parent fails: an error that only known addresses reach (building
            // the link, rendering the mail) must not answer sooner either.
            sleepUntil(deadline);
        }
    }

    /** The parent's own test for the second pass: the action token of the link named this user. */
    private static boolean backFromEmailLink(AuthenticationFlowContext context) {
        UserModel user = context.getUser();
        String tokenUserId =
                context.getAuthenticationSession().getAuthNote(DefaultActionTokenKey.ACTION_TOKEN_USER_ID);
        return user != null && tokenUserId != null && tokenUserId.equals(user.getId());
    }

    private static long minimumMillis(AuthenticatorConfigModel config) {
        String value = config == null ? null : config.getConfig().get(MINIMUM_RESPONSE_MILLIS);
        if (value == null || value.isBlank()) {
            return DEFAULT_MINIMUM_RESPONSE_MILLIS;
        }
        try {
            return Math.max(0, Long.parseLong(value.trim()));
        } catch (NumberFormatException e) {
            LOG.warnf("%s invalide : %s ; %d ms utilisées", MINIMUM_RESPONSE_MILLIS, value,
                    DEFAULT_MINIMUM_RESPONSE_MILLIS);
            return DEFAULT_MINIMUM_RESPONSE_MILLIS;
        }
    }

    private static void sleepUntil(long deadline) {
        long remaining;
        while ((remaining = deadline - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(remaining);
            } catch (InterruptedException e) {
                // Only at shutdown: keep the interrupt for the caller and stop padding.
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Envoyer l'e-mail de réinitialisation (durée minimale)";
    }

    @Override
    public String getHelpText() {
        return "Envoie l'e-mail de réinitialisation et répond toujours après la même durée minimale, "
                + "que l'adresse soit connue ou non, pour ne pas révéler qu'un compte existe.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        List<ProviderConfigProperty> properties = new ArrayList<>(super.getConfigProperties());
        properties.add(new ProviderConfigProperty(
                MINIMUM_RESPONSE_MILLIS,
                "Durée minimale de réponse (ms)",
                "Le formulaire « Mot de passe oublié » ne répond pas avant ce délai, que l'adresse soit "
                        + "connue ou non. Doit dépasser l'envoi d'e-mail le plus lent en temps normal.",
                ProviderConfigProperty.INTEGER_TYPE,
                String.valueOf(DEFAULT_MINIMUM_RESPONSE_MILLIS)));
        return properties;
    }
}
