"""The guards whose mutation changes what Keycloak runs (our extensions, the realm, its
provisioning): each starts a throwaway Keycloak (about 60–100 s) with the mutation, then runs the
tests expected to catch it. The record and the portal's guards: :mod:`tests.mutations.guards`.
"""

from __future__ import annotations

from tests.mutations.guards import Guard

JAVA = "keycloak/providers/src/main/java/fr/collecte/keycloak/"

KEYCLOAK_GUARDS: tuple[Guard, ...] = (
    Guard(
        "no-perimeter",
        "flux : la condition « aucun périmètre » ne refuse plus personne",
        JAVA + "NoPerimeterCondition.java",
        "return user == null || !Perimeters.any(user);",
        "return user == null;",
        (
            "tests/integration/test_perimetres.py::test_with_no_perimeter_at_all_the_sign_in_is_refused",
        ),
        keycloak=True,
    ),
    Guard(
        "revision-validator",
        "RevisionValidator : révision périmée acceptée",
        JAVA + "RevisionValidator.java",
        "if (!stored.equals(sent)) {",
        "if (false && !stored.equals(sent)) {",
        (
            "tests/integration/test_no_lost_updates.py"
            "::test_a_user_update_based_on_a_stale_read_is_refused",
        ),
        keycloak=True,
    ),
    Guard(
        "password-chosen-by-user",
        "PasswordChosenByUserPolicy ne refuse plus rien",
        JAVA + "PasswordChosenByUserPolicy.java",
        "        return REFUSAL_TEXT;\n",
        "        return null;\n",
        (
            "tests/integration/test_coordinator_permissions.py::test_coordinator_cannot_reset_a_members_password",
            "tests/integration/test_coordinator_permissions.py"
            "::test_coordinator_cannot_set_a_password_through_the_user_representation",
        ),
        keycloak=True,
    ),
    Guard(
        "brute-force",
        "failureFactor 5 → 50",
        "realm-export.json",
        '"failureFactor": 5,',
        '"failureFactor": 50,',
        (
            "tests/e2e/test_only_collection_contacts.py"
            "::test_repeated_wrong_passwords_lock_the_account_for_a_while",
        ),
        keycloak=True,
    ),
    Guard(
        "reset-padding",
        "délai du « mot de passe oublié » compté après l'envoi",
        JAVA + "PaddedResetCredentialEmail.java",
        "        long deadline = System.nanoTime()\n"
        "                + TimeUnit.MILLISECONDS.toNanos("
        "minimumMillis(context.getAuthenticatorConfig()));\n"
        "        try {\n"
        "            super.authenticate(context);\n"
        "        } finally {\n",
        "        try {\n"
        "            super.authenticate(context);\n"
        "        } finally {\n"
        "            long deadline = System.nanoTime()\n"
        "                + TimeUnit.MILLISECONDS.toNanos("
        "minimumMillis(context.getAuthenticatorConfig()));\n",
        (
            "tests/e2e/test_forgot_password.py"
            "::test_reset_answers_the_same_for_known_and_unknown_emails",
        ),
        keycloak=True,
    ),
    Guard(
        "principal-keycloak",
        "RevisionedGroupResource : principal remplacé accepté",
        JAVA + "RevisionedGroupResource.java",
        "if (!principal.isEmpty() && !replacement.isEmpty() && !principal.equals(replacement)) {",
        "if (false && !principal.equals(replacement)) {",
        ("tests/integration/test_no_lost_updates.py::test_a_principal_is_never_replaced",),
        keycloak=True,
    ),
    Guard(
        "coordinator-role-and-group",
        "permissions des coordonnateurs : groupe marqueur OU rôle (AFFIRMATIVE)",
        "portal/core/keycloak/coordination.py",
        '            "decisionStrategy": "UNANIMOUS",\n            "policies": [policy_id, ens',
        '            "decisionStrategy": "AFFIRMATIVE",\n            "policies": [policy_id, ens',
        (
            "tests/integration/test_coordinator_permissions.py"
            "::test_a_coordinators_powers_need_the_role_and_the_marker_group_together",
        ),
        keycloak=True,
    ),
    Guard(
        "restricted-writer-role",
        "RestrictedWriter : rôle coordonnateur plus exigé (groupe marqueur seul)",
        JAVA + "RestrictedWriter.java",
        "groupements = caller == null || coordinator == null || !caller.hasRole(coordinator)",
        "groupements = caller == null || coordinator == null",
        (
            "tests/integration/test_restricted_writer.py"
            "::test_without_the_coordinator_role_the_validators_refuse_even_with_a_permission",
        ),
        keycloak=True,
    ),
    Guard(
        "cgu-version",
        "CGU : nouvelle version plus redemandée (comparaison inversée)",
        JAVA + "VersionedTermsAndConditions.java",
        "        if (acceptedBefore(user)\n                && !current.equals(",
        "        if (acceptedBefore(user)\n                && current.equals(",
        (
            "tests/e2e/test_cgu_versions.py"
            "::test_a_new_cgu_version_is_accepted_again_at_the_next_sign_in",
        ),
        keycloak=True,
    ),
    Guard(
        "invitation-superseded",
        "lien d'invitation remplacé : < devient <= (lien de la seconde notée refusé)",
        JAVA + "LatestInvitationActionTokenHandler.java",
        "return token.getIat() < Long.parseLong(sent.trim());",
        "return token.getIat() <= Long.parseLong(sent.trim());",
        (
            "tests/e2e/test_invitation_links.py"
            "::test_a_link_issued_in_the_recorded_second_is_the_latest_one_issued_before_is_not",
        ),
        keycloak=True,
    ),
    Guard(
        "credential-provider",
        "fournisseur de mots de passe : mot de passe déjà haché accepté de tous",
        JAVA + "PasswordSetByUserCredentialProviderFactory.java",
        "            if (refusal != null) {\n",
        "            if (false && refusal != null) {\n",
        (
            "tests/integration/test_coordinator_permissions.py"
            "::test_coordinator_cannot_set_an_already_hashed_password",
        ),
        keycloak=True,
    ),
    Guard(
        "change-notifier",
        "Keycloak ne prévient plus le portail des écritures de son compte de service",
        JAVA + "ChangeNotifier.java",
        "return marked && event.getAuthDetails() != null",
        "return event.getAuthDetails() != null",
        (
            "tests/integration/test_read_cache.py"
            "::test_changes_by_the_portal_account_elsewhere_are_told",
        ),
        keycloak=True,
    ),
    Guard(
        "by-email-view",
        "la lecture par adresses e-mail répond sans exiger la vue de toutes les personnes",
        JAVA + "PageReadResource.java",
        "        auth.users().requireView();\n",
        "",
        (
            "tests/integration/test_page_read_endpoint.py"
            "::test_whether_an_address_has_an_account_is_told_to_no_member_nor_coordinator",
        ),
        keycloak=True,
    ),
    Guard(
        "by-siren-view",
        "la lecture par SIREN répond sans exiger la vue de tous les groupes",
        JAVA + "PageReadResource.java",
        "        auth.groups().requireView();\n",
        "",
        (
            "tests/integration/test_page_read_endpoint.py"
            "::test_which_groupement_holds_a_siren_is_told_to_no_member_nor_coordinator",
        ),
        keycloak=True,
    ),
    Guard(
        "group-write-rolled-back",
        "écriture de groupe annulée par un écouteur répondue 204 (comme fait Keycloak)",
        JAVA + "RevisionedGroupResource.java",
        "        if (session.getTransactionManager().getRollbackOnly()) {\n",
        "        if (false) {\n",
        (
            "tests/integration/test_no_lost_updates.py"
            "::test_a_write_keycloak_rolls_back_is_never_answered_as_done",
        ),
        keycloak=True,
    ),
    Guard(
        "lot-taken-revocation",
        "lot retiré d'un adhérent : ceux dont c'était le dernier périmètre gardent leurs sessions",
        JAVA + "SessionRevocationListener.java",
        ".filter(row -> lostLot((String) row[1], group.getName(), lots))",
        ".filter(row -> false)",
        (
            "tests/integration/test_session_revocation.py"
            "::test_a_lot_taken_from_the_adherent_ends_the_sessions_it_was_the_last_perimeter_of",
        ),
        keycloak=True,
    ),
    Guard(
        "change-token-key",
        "jeton de notification réutilisé après la rotation de la clé du realm",
        JAVA + "ChangeNotifier.java",
        "+ session.keys().getActiveKey(realm, KeyUse.SIG, algorithm).getKid();",
        '+ "";',
        (
            "tests/integration/test_change_tokens.py"
            "::test_a_token_is_sent_again_until_the_signing_key_rotates",
        ),
        keycloak=True,
    ),
)
