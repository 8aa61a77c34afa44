"""The critical guards, each with one small mutation and the tests expected to catch it.

A mutation names its file, the exact text to replace (found exactly once, or the run stops:
the list cannot rot silently when the code moves) and its replacement. This module holds the
record and the portal's guards, whose tests run without changing Keycloak;
:mod:`tests.mutations.keycloak_guards` holds those that change what Keycloak runs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guard:
    name: str
    what: str  # French: the guard and how the mutation breaks it (for the table)
    path: str
    original: str
    mutated: str
    tests: tuple[str, ...]
    keycloak: bool = False


PORTAL_GUARDS: tuple[Guard, ...] = (
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
        ("tests/unit/web/test_logout_and_renewal.py::test_logout_requires_csrf_token",),
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
            "tests/unit/core/test_abuse_limits_requests.py::test_a_fourth_request_for_the_same_address_is_refused",
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
        ("tests/unit/web/suivi/test_suivi_actions.py::test_csv_export_neutralises_formulas",),
    ),
    Guard(
        "host-guard",
        "en-tête Host : tout hôte accepté",
        "portal/web/public_url.py",
        '                self.app.config["TRUSTED_HOSTS"],\n',
        "                None,\n",
        ("tests/unit/web/test_public_url.py::test_a_forged_host_gets_the_french_400_page",),
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
            "tests/unit/web/imports/test_import_job_records.py"
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
            "tests/unit/web/imports/test_import_job_records.py"
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
)
