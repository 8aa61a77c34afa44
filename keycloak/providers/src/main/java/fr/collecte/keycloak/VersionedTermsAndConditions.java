package fr.collecte.keycloak;

import jakarta.ws.rs.core.MultivaluedMap;
import org.jboss.logging.Logger;
import org.keycloak.authentication.RequiredActionContext;
import org.keycloak.authentication.requiredactions.TermsAndConditions;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;

/**
 * Keycloak's "accept the terms" required action (the CGU), recording which version was accepted
 * and asking again when the version in force changes.
 *
 * <p>The version in force is the realm attribute {@value #REALM_VERSION}, written by the
 * provisioning with the CGU text. On acceptance, besides Keycloak's date ({@value #USER_ATTRIBUTE},
 * kept), the user gets {@value #ACCEPTED_VERSION} = that version. At each sign-in, a person who may
 * get a session (a collection contact, or platform staff) and who accepted the CGU before, but not
 * this version (or before versions were recorded), gets the required action again. A person who
 * never accepted keeps Keycloak's behaviour: the default required action asks them already.
 * Without a realm version, this is Keycloak's action unchanged, plus nothing recorded.
 *
 * <p>The page shows the version ({@code terms.ftl} of the collecte theme) and posts it back: an
 * acceptance of a version that is no longer in force (provisioning ran while the page was open)
 * shows the page again with the new version instead of recording it.
 *
 * <p>Same provider id as the built-in action ({@code TERMS_AND_CONDITIONS}, inherited), so the
 * realm's required action, the invitation's action list and Keycloak's date attribute keep
 * working: Keycloak keeps one factory per id, the one with the higher {@link #order()}
 * (ProviderManager.compareFactories). The parent is its own factory ({@code create} returns
 * {@code this}), and so is this class.
 */
public class VersionedTermsAndConditions extends TermsAndConditions {

    /** Realm attribute: the version of the CGU in force. */
    public static final String REALM_VERSION = "cguVersion";
    /** User attribute: the version the person accepted last. */
    public static final String ACCEPTED_VERSION = "cguVersionAcceptee";
    /** Who may get a session, as in the realm's browser flow: a perimeter ({@link Perimeters})
     *  or this realm role (composites included). */
    public static final String STAFF_ROLE = "equipe-plateforme";
    /** Form parameter and template attribute: the version shown on the page. */
    public static final String SHOWN_VERSION = "cguVersion";
    /** Template attribute: true when the person accepted an earlier version. */
    public static final String UPDATED = "cguMiseAJour";

    private static final Logger LOG = Logger.getLogger(VersionedTermsAndConditions.class);

    @Override
    public void evaluateTriggers(RequiredActionContext context) {
        RealmModel realm = context.getRealm();
        UserModel user = context.getUser();
        String current = currentVersion(realm);
        if (current == null || user == null || !mayGetSession(realm, user)) {
            return;
        }
        if (acceptedBefore(user)
                && !current.equals(user.getFirstAttribute(ACCEPTED_VERSION))
                && user.getRequiredActionsStream().noneMatch(PROVIDER_ID::equals)) {
            LOG.debugf("CGU %s à accepter par %s (version acceptée : %s)", current, user.getId(),
                    user.getFirstAttribute(ACCEPTED_VERSION));
            user.addRequiredAction(PROVIDER_ID);
        }
    }

    @Override
    public void requiredActionChallenge(RequiredActionContext context) {
        // The parent's challenge, with the version in force and whether it replaces an earlier one.
        UserModel user = context.getAuthenticationSession().getAuthenticatedUser();
        String current = currentVersion(context.getRealm());
        boolean updated = current != null && user != null && acceptedBefore(user)
                && !current.equals(user.getFirstAttribute(ACCEPTED_VERSION));
        context.challenge(context.form()
                .setAttribute("user", user)
                .setAttribute(SHOWN_VERSION, current)
                .setAttribute(UPDATED, updated)
                .createForm("terms.ftl"));
    }

    @Override
    public void processAction(RequiredActionContext context) {
        MultivaluedMap<String, String> form = context.getHttpRequest().getDecodedFormParameters();
        UserModel user = context.getUser();
        String current = currentVersion(context.getRealm());
        if (form.containsKey("cancel")) {
            decline(context, user, current);
            return;
        }
        String shown = form.getFirst(SHOWN_VERSION);
        if (current != null && shown != null && !current.equals(shown)) {
            // The CGU changed while the page was open: accepting them is accepting what is shown.
            LOG.infof("CGU %s acceptées par %s alors que la version %s est en vigueur : page "
                    + "présentée de nouveau", shown, user.getId(), current);
            requiredActionChallenge(context);
            return;
        }
        super.processAction(context);
        if (current == null) {
            user.removeAttribute(ACCEPTED_VERSION);
        } else {
            user.setSingleAttribute(ACCEPTED_VERSION, current);
        }
    }

    /**
     * Keycloak's decline (it forgets the acceptance date and fails the flow: no session), except
     * that declining a version newer than the one accepted withdraws nothing: the earlier
     * acceptance (date and version) stays recorded, as the proof of what the person accepted, and
     * the action stays pending. Declining the version already accepted (an invitation sent again)
     * withdraws it: date and version are forgotten, as Keycloak does.
     */
    private void decline(RequiredActionContext context, UserModel user, String current) {
        String acceptedOn = user.getFirstAttribute(USER_ATTRIBUTE);
        String accepted = user.getFirstAttribute(ACCEPTED_VERSION);
        boolean newerVersion = acceptedOn != null && !acceptedOn.isBlank() && current != null
                && !current.equals(accepted);
        super.processAction(context);
        if (newerVersion) {
            user.setSingleAttribute(USER_ATTRIBUTE, acceptedOn);
            LOG.infof("CGU %s refusées par %s : acceptation antérieure (version %s) conservée",
                    current, user.getId(), accepted);
        } else {
            user.removeAttribute(ACCEPTED_VERSION);
        }
    }

    /** The realm's version in force, or null when none is configured. */
    static String currentVersion(RealmModel realm) {
        String version = realm.getAttribute(REALM_VERSION);
        return version == null || version.isBlank() ? null : version.trim();
    }

    private static boolean acceptedBefore(UserModel user) {
        String date = user.getFirstAttribute(USER_ATTRIBUTE);
        return date != null && !date.isBlank();
    }

    /** The sign-in flows' rule: staff, or a collection contact under the authority rule. */
    private static boolean mayGetSession(RealmModel realm, UserModel user) {
        RoleModel staff = realm.getRole(STAFF_ROLE);
        return (staff != null && user.hasRole(staff)) || Perimeters.any(user);
    }

    @Override
    public String getDisplayText() {
        return "Accepter les CGU (version en vigueur)";
    }

    /** Higher than the built-in action's (the default, 0), so this one is used for the id. */
    @Override
    public int order() {
        return 1;
    }
}
