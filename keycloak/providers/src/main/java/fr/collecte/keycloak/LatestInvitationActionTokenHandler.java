package fr.collecte.keycloak;

import java.util.Arrays;
import org.jboss.logging.Logger;
import org.keycloak.TokenVerifier;
import org.keycloak.authentication.actiontoken.ActionTokenContext;
import org.keycloak.authentication.actiontoken.TokenUtils;
import org.keycloak.authentication.actiontoken.execactions.ExecuteActionsActionToken;
import org.keycloak.authentication.actiontoken.execactions.ExecuteActionsActionTokenHandler;
import org.keycloak.models.UserModel;

/**
 * Keycloak's handler of "execute actions" links (the invitation), refusing a link older than the
 * person's latest invitation.
 *
 * <p>These links are stateless signed tokens: sending a new invitation does not invalidate the
 * previous one. The portal records, before asking Keycloak to send the mail, the sending time in
 * the attribute {@value #INVITATION_SENT} (epoch seconds). A token issued ({@code iat}) before
 * that second belongs to an earlier invitation and is refused with a French message. A person
 * without the attribute (invited before it existed, or by the console) is handled as before.
 *
 * <p>Same provider id as the built-in handler ({@code execute-actions}): Keycloak keeps one
 * factory per id, the one with the higher {@link #order()} (ProviderManager.compareFactories;
 * on a tie, the one outside {@code org.keycloak}). We do not rely on the tie.
 */
public class LatestInvitationActionTokenHandler extends ExecuteActionsActionTokenHandler {

    public static final String INVITATION_SENT = "invitationEnvoyeeLe";
    public static final String SUPERSEDED_MESSAGE = "collecteInvitationRemplacee";
    /** Recorded as the error of the EXECUTE_ACTIONS event, so support can see why a link failed. */
    public static final String SUPERSEDED_EVENT_ERROR = "invitation_superseded";

    private static final Logger LOG = Logger.getLogger(LatestInvitationActionTokenHandler.class);

    @Override
    public TokenVerifier.Predicate<? super ExecuteActionsActionToken>[] getVerifiers(
            ActionTokenContext<ExecuteActionsActionToken> context) {
        TokenVerifier.Predicate<? super ExecuteActionsActionToken>[] parent = super.getVerifiers(context);
        TokenVerifier.Predicate<? super ExecuteActionsActionToken>[] all =
                Arrays.copyOf(parent, parent.length + 1);
        // The user is the token's, checked and set on the authentication session before the
        // verifiers run (the parent's email check reads it the same way). Verifiers run on every
        // opening, the confirmation page included, before the token can be used.
        all[parent.length] = TokenUtils.checkThat(
                token -> !superseded(token, context.getAuthenticationSession().getAuthenticatedUser()),
                SUPERSEDED_EVENT_ERROR,
                SUPERSEDED_MESSAGE);
        return all;
    }

    private static boolean superseded(ExecuteActionsActionToken token, UserModel user) {
        String sent = user == null ? null : user.getFirstAttribute(INVITATION_SENT);
        if (sent == null || sent.isBlank() || token.getIat() == null) {
            return false;
        }
        try {
            // One-second resolution on both sides: a link issued in the same second as the
            // recorded sending is the new one (the portal records the time before Keycloak signs).
            return token.getIat() < Long.parseLong(sent.trim());
        } catch (NumberFormatException e) {
            // Written by the portal only; a hand-edited value must not lock the person out.
            LOG.warnf("%s illisible pour %s : %s ; lien accepté", INVITATION_SENT, user.getId(), sent);
            return false;
        }
    }

    /** Higher than the built-in handler's (the default, 0), so this one is used for the id. */
    @Override
    public int order() {
        return 1;
    }
}
