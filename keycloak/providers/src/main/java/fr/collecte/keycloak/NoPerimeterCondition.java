package fr.collecte.keycloak;

import java.util.List;
import org.keycloak.Config;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.authenticators.conditional.ConditionalAuthenticator;
import org.keycloak.authentication.authenticators.conditional.ConditionalAuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.provider.ProviderConfigProperty;

/**
 * Flow condition « sans périmètre de collecte »: true when the authenticated person is a
 * collection contact nowhere under the authority rule ({@link Perimeters} empty). It replaces
 * Keycloak's « user attribute {@code collecte} non-empty » condition in the refusal sub-flows of
 * the browser, direct-grant and reset-credentials flows: a {@code collecte} value without
 * membership of the adherent's group, or for a lot the adherent does not have, no longer opens a
 * session. With the role condition (not staff) beside it, the sub-flow's deny-access step shows
 * the same French refusal as to a technical contact.
 *
 * <p>No user in the context (never the case after identification in these flows) counts as no
 * perimeter: the condition fails closed. Its own factory, as Keycloak's conditions are.
 */
public class NoPerimeterCondition implements ConditionalAuthenticator, ConditionalAuthenticatorFactory {

    public static final String PROVIDER_ID = "collecte-condition-sans-perimetre";

    private static final AuthenticationExecutionModel.Requirement[] REQUIREMENTS = {
        AuthenticationExecutionModel.Requirement.REQUIRED, AuthenticationExecutionModel.Requirement.DISABLED
    };

    @Override
    public boolean matchCondition(AuthenticationFlowContext context) {
        UserModel user = context.getUser();
        return user == null || !Perimeters.any(user);
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        // a condition shows no page
    }

    @Override
    public boolean requiresUser() {
        return false;
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
    }

    @Override
    public ConditionalAuthenticator getSingleton() {
        return this;
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Condition - sans périmètre de collecte";
    }

    @Override
    public String getHelpText() {
        return "Vrai quand la personne n'est interlocuteur de collecte d'aucun SIREN/lot selon la "
                + "règle d'autorité (valeur collecte, membre du groupe de l'adhérent, lot de l'adhérent).";
    }

    @Override
    public boolean isConfigurable() {
        return false;
    }

    @Override
    public AuthenticationExecutionModel.Requirement[] getRequirementChoices() {
        return REQUIREMENTS;
    }

    @Override
    public boolean isUserSetupAllowed() {
        return false;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }
}
