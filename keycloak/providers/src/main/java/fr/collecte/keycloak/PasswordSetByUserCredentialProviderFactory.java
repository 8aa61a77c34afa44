package fr.collecte.keycloak;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import java.lang.reflect.Field;
import org.jboss.logging.Logger;
import org.keycloak.credential.CredentialModel;
import org.keycloak.credential.PasswordCredentialProvider;
import org.keycloak.credential.PasswordCredentialProviderFactory;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.credential.PasswordCredentialModel;
import org.keycloak.policy.PasswordPolicyNotMetException;

/**
 * Keycloak's password credential provider, refusing an already hashed password stored through
 * the Admin API by someone who does not manage the realm's users.
 *
 * <p>{@code credentials} with {@code secretData} and {@code credentialData} but no {@code value}
 * in {@code POST /users} or {@code PUT /users/{id}} is stored as given
 * ({@code RepresentationToModel.createCredentials} → {@code createCredentialThroughProvider} →
 * {@link PasswordCredentialProvider#createCredential(RealmModel, UserModel, PasswordCredentialModel)}),
 * without the realm's password policy, hence without {@link PasswordChosenByUserPolicy}. Every
 * stored password, hashed here from a clear one or given hashed, goes through that method: the
 * same rule as the policy is applied there ({@link PasswordChosenByUserPolicy#refusal}), and the
 * refusal is a {@link PasswordPolicyNotMetException}, which the Admin API answers with 400 and
 * the message (as for the policy).
 *
 * <p>Same provider id as the built-in factory ({@code keycloak-password}, inherited) and a higher
 * {@link #order()}: Keycloak keeps this one (ProviderManager.compareFactories). The parent keeps
 * its metrics settings in private fields, read here once so that metrics behave as before.
 */
public class PasswordSetByUserCredentialProviderFactory extends PasswordCredentialProviderFactory {

    private static final Logger LOG = Logger.getLogger(PasswordSetByUserCredentialProviderFactory.class);

    private Meter.MeterProvider<Counter> meterProvider;
    private final boolean[] flags = new boolean[5];

    @Override
    @SuppressWarnings("unchecked")
    public void postInit(KeycloakSessionFactory factory) {
        super.postInit(factory);
        try {
            meterProvider = (Meter.MeterProvider<Counter>) read("meterProvider");
            String[] names = {"metricsEnabled", "withRealmInMetric", "withAlgorithmInMetric",
                "withHashingStrengthInMetric", "withOutcomeInMetric"};
            for (int i = 0; i < names.length; i++) {
                flags[i] = (Boolean) read(names[i]);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // A later Keycloak renamed them: passwords still work, without their metrics.
            LOG.warnf("Réglages de métriques des mots de passe illisibles (%s) : métriques coupées", e);
            meterProvider = null;
            java.util.Arrays.fill(flags, false);
        }
    }

    private Object read(String name) throws ReflectiveOperationException {
        Field field = PasswordCredentialProviderFactory.class.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(this);
    }

    @Override
    public PasswordCredentialProvider create(KeycloakSession session) {
        return new Guarded(session, meterProvider, flags);
    }

    /** Higher than the built-in factory's (the default, 0), so this one is used for the id. */
    @Override
    public int order() {
        return 1;
    }

    static final class Guarded extends PasswordCredentialProvider {

        private final KeycloakSession session;

        Guarded(KeycloakSession session, Meter.MeterProvider<Counter> meterProvider, boolean[] flags) {
            super(session, meterProvider, flags[0], flags[1], flags[2], flags[3], flags[4]);
            this.session = session;
        }

        @Override
        public CredentialModel createCredential(RealmModel realm, UserModel user,
                PasswordCredentialModel credential) {
            String refusal = PasswordChosenByUserPolicy.refusal(session, realm, user);
            if (refusal != null) {
                throw new PasswordPolicyNotMetException(refusal, user.getUsername());
            }
            return super.createCredential(realm, user, credential);
        }
    }
}
