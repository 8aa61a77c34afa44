"""The critical guards, each with one small mutation and the tests expected to catch it.

A mutation names its file, the exact text to replace (found exactly once, or the run stops:
the list cannot rot silently when the code moves) and its replacement. ``keycloak`` guards
start a throwaway Keycloak (about 60–100 s each) with the mutated extensions or realm.
"""

from __future__ import annotations

from dataclasses import dataclass

JAVA = "keycloak/providers/src/main/java/fr/collecte/keycloak/"


@dataclass(frozen=True)
class Guard:
    name: str
    what: str  # French: the guard and how the mutation breaks it (for the table)
    path: str
    original: str
    mutated: str
    tests: tuple[str, ...]
    keycloak: bool = False


GUARDS: tuple[Guard, ...] = (
    Guard(
        "lot-isolation",
        "Member.require réduit au même SIREN",
        "portal/core/services/member_space.py",
        "if not self.unrestricted and scope not in self.scopes:",
        "if not self.unrestricted and scope.siren not in {s.siren for s in self.scopes}:",
        (
            "tests/unit/web/espace/test_espace_access.py::test_member_a_cannot_reach_beyond_their_scope",
        ),
    ),
    Guard(
        "csrf",
        "jeton CSRF désactivé (WTF_CSRF_ENABLED = False)",
        "portal/web/app.py",
        "    CSRFProtect(app)\n",
        '    app.config["WTF_CSRF_ENABLED"] = False\n    CSRFProtect(app)\n',
        ("tests/unit/web/test_auth.py::test_logout_requires_csrf_token",),
    ),
    Guard(
        "session-idle",
        "délai d'inactivité remplacé par la durée maximale",
        "portal/web/sessions.py",
        'timedelta(seconds=int(config["SESSION_IDLE_TIMEOUT"]))',
        'timedelta(seconds=int(config["SESSION_MAX_LIFETIME"]))',
        (
            "tests/unit/web/test_session_cookie.py::test_a_session_idle_longer_than_the_timeout_is_gone",
        ),
    ),
    Guard(
        "authority-lot",
        "règle d'autorité : lot hors de l'adhérent accepté",
        "portal/core/authority.py",
        "    if scope.lot not in adherent.lots:\n",
        "    if False:\n",
        (
            "tests/unit/core/test_authority.py"
            "::test_a_function_counts_only_with_membership_and_a_lot_of_the_adherent",
        ),
    ),
    Guard(
        "authority-membership",
        "règle d'autorité : fonction sans appartenance au groupe acceptée",
        "portal/core/authority.py",
        "        return NOT_A_MEMBER.format(siren=scope.siren)\n",
        "        return None\n",
        (
            "tests/unit/core/test_authority.py"
            "::test_a_function_counts_only_with_membership_and_a_lot_of_the_adherent",
        ),
    ),
    Guard(
        "stale-user-write",
        "stale_user_write ne reconnaît plus le refus de révision",
        "portal/core/keycloak/revisions.py",
        '    return any(problem.get("field") == ATTRIBUTE for problem in _problems(error))',
        "    return False",
        (
            "tests/unit/core/keycloak/test_no_lost_updates.py"
            "::test_an_edit_refused_as_stale_is_redone_on_a_new_read",
        ),
    ),
    Guard(
        "stale-user-write-status",
        "stale_user_write : toute erreur non-400 prise pour une révision périmée",
        "portal/core/keycloak/revisions.py",
        "    if error.response_code != 400:\n        return False\n",
        "    if error.response_code != 400:\n        return True\n",
        (
            "tests/unit/core/keycloak/test_no_lost_updates.py"
            "::test_only_a_400_on_the_revision_field_is_a_stale_write",
        ),
    ),
    Guard(
        "abuse-limits",
        "les actions ne sont plus comptées (hit → test)",
        "portal/core/abuse_limits.py",
        "self._limiter.hit(limit.item, limit.name, _hashed(identifier))",
        "self._limiter.test(limit.item, limit.name, _hashed(identifier))",
        (
            "tests/unit/core/test_abuse_limits.py::test_a_fourth_request_for_the_same_address_is_refused",
        ),
    ),
    Guard(
        "backchannel-aud",
        "jeton de déconnexion : audience non comparée",
        "portal/web/backchannel.py",
        'aud={"essential": True, "value": client_id},',
        'aud={"essential": True},',
        (
            "tests/unit/web/test_backchannel.py::test_an_invalid_logout_token_is_refused_and_ends_nothing",
        ),
    ),
    Guard(
        "safe-files-dimension",
        "XLSX : la dimension annoncée par la feuille est crue",
        "portal/core/safe_files.py",
        "        sheet.reset_dimensions()\n",
        "",
        ("tests/unit/core/test_hostile_files.py::test_rows_and_cells_far_away_are_bounded",),
    ),
    Guard(
        "safe-files-zip",
        "XLSX : taille décompressée annoncée non bornée",
        "portal/core/safe_files.py",
        "if sum(info.file_size for info in infos) > MAX_INFLATED_BYTES:",
        "if sum(info.file_size for info in infos) > 100 * MAX_INFLATED_BYTES:",
        (
            "tests/unit/core/test_hostile_files.py::test_a_zip_bomb_is_refused_from_the_zip_directory",
        ),
    ),
    Guard(
        "csv-formula",
        "export CSV : formules plus neutralisées",
        "portal/web/suivi/views.py",
        'return "\'" + value if value.startswith(FORMULA_STARTS) else value',
        "return value",
        ("tests/unit/web/suivi/test_suivi.py::test_csv_export_neutralises_formulas",),
    ),
    Guard(
        "host-guard",
        "en-tête Host : tout hôte accepté",
        "portal/web/public_url.py",
        '                self.app.config["TRUSTED_HOSTS"],\n',
        "                None,\n",
        ("tests/unit/web/test_public_url.py::test_a_forged_host_gets_the_french_400_page",),
    ),
    # --- Keycloak side: each starts a Keycloak with the mutated extensions or realm -----------
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
            "tests/integration/test_coordinators.py::test_coordinator_cannot_reset_a_members_password",
            "tests/integration/test_coordinators.py"
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
        "principal-portal",
        "portail : principal écrit même si un autre a été noté entre-temps",
        "portal/core/keycloak/groups.py",
        "                if not attributes.get(schema.principal_attribute(lot)):\n",
        "                if True:\n",
        (
            "tests/unit/core/keycloak/test_no_lost_updates.py"
            "::test_a_principal_claimed_by_someone_else_meanwhile_is_not_replaced",
        ),
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
            "tests/integration/test_coordinators.py"
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
            "tests/integration/test_coordinators.py"
            "::test_coordinator_cannot_set_an_already_hashed_password",
        ),
        keycloak=True,
    ),
    Guard(
        "cache-generation",
        "cache des pages : entrée servie même après un changement signalé par Keycloak",
        "portal/core/keycloak/read_cache.py",
        "if entry is not None and entry[0] == generation and entry[1] > now:",
        "if entry is not None and entry[1] > now:",
        (
            "tests/unit/core/keycloak/test_read_cache.py"
            "::test_a_read_is_served_again_until_the_realm_changes",
            "tests/unit/web/support/test_support_access.py"
            "::test_a_withdrawn_role_takes_effect_at_the_request_after_keycloak_says_so",
        ),
    ),
    Guard(
        "cache-writes",
        "cache des pages : lectures en cache aussi pendant un POST",
        "portal/web/gateway.py",
        'read_cache.set_allowed(request.method in ("GET", "HEAD"))',
        "read_cache.set_allowed(True)",
        (
            "tests/unit/web/support/test_support_access.py"
            "::test_a_write_asks_keycloak_even_when_a_page_was_just_read",
        ),
    ),
    Guard(
        "changes-endpoint",
        "notification de changement acceptée sans effet (génération non remplacée)",
        "portal/web/backchannel.py",
        '    changed()\n    return "", 200\n',
        '    return "", 200\n',
        (
            "tests/unit/web/test_backchannel_changes.py"
            "::test_a_valid_changes_token_makes_the_portal_read_again",
        ),
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
        "pool-validation",
        "connexions de Keycloak non validées : 500 après un redémarrage de PostgreSQL",
        "keycloak/collecte_kc/production.py",
        '    shutil.copy(POOL_SETTINGS, home / "conf" / "quarkus.properties")\n',
        "",
        (
            "tests/production/test_topology.py"
            "::test_postgresql_restarted_the_platform_recovers_by_itself_with_the_french_page_meanwhile",
        ),
    ),
    Guard(
        "import-attempt",
        "une tentative d'import remplacée s'exécute quand même (deux exécutions à la fois)",
        "portal/web/imports/jobs.py",
        "if job is None or order is None or not job.running or job.attempt != attempt:",
        "if job is None or order is None or not job.running:",
        (
            "tests/unit/web/imports/test_imports.py"
            "::test_a_run_whose_attempt_was_superseded_does_nothing",
        ),
    ),
    Guard(
        "import-resume",
        "un import dont le consommateur est mort n'est jamais repris",
        "portal/web/imports/jobs.py",
        '    if not huey.put_if_empty(f"{_PREFIX}reprise:{job.id}:{attempt}", 1):\n'
        "        return\n",
        "    return\n",
        (
            "tests/unit/web/imports/test_imports.py"
            "::test_a_still_job_is_resumed_once_then_given_up_after_its_last_attempt",
        ),
    ),
    Guard(
        "accountless-vet",
        "une demande sans compte entre dans la file pour un interlocuteur de collecte déjà là",
        "portal/core/services/accountless.py",
        "        if acts_for(existing, Function.COLLECTE, scope, memberships):\n",
        "        if False:\n",
        (
            "tests/integration/test_accountless_requests.py"
            "::test_a_collection_contact_there_or_a_staff_address_is_never_queued",
        ),
    ),
    Guard(
        "accountless-lot",
        "une demande sans compte est enregistrée pour un lot hors du contrat de l'adhérent",
        "portal/core/services/accountless.py",
        "if adherent is None or scope.lot not in adherent.lots:",
        "if adherent is None:",
        (
            "tests/integration/test_accountless_requests.py"
            "::test_nothing_is_recorded_nor_said_for_a_siren_or_lot_outside_the_platform",
        ),
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
        "diagnosis-lock-live",
        "le verrou d'un compte gardé en mémoire dans le diagnostic (sa fin par le temps non vue)",
        "portal/core/keycloak/gateway.py",
        "keep=lambda read: not read.locked,",
        "keep=lambda read: True,",
        (
            "tests/integration/test_read_cache.py"
            "::test_a_lock_shows_at_the_next_diagnosis_and_so_does_its_end",
        ),
    ),
    Guard(
        "group-write-reread",
        "l'écriture d'un groupe refusée car périmée est refaite sur la même lecture",
        "portal/core/keycloak/groups.py",
        "            group = copy.deepcopy(dict(current))\n            current = None\n",
        "            group = copy.deepcopy(dict(current))\n",
        (
            "tests/integration/test_bulk_import.py"
            "::test_principals_are_written_from_the_listing_and_a_group_changed_since_is_read_again",
        ),
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
