"""Bulk import against the real Keycloak: dry run, apply (partial import as the command line
does it, one creation per person as the portal's account does it), idempotence, mails, a SIREN
of another groupement, the portal's background job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from stdnum import luhn

from collecte_kc import bulk_import
from portal.core.domain import Change, Function, Scope
from portal.core.keycloak import groups as groups_module
from portal.core.keycloak.admin_permissions import ensure_admin_permissions, find_by_name
from portal.core.keycloak.coordination import ensure_user_managers_policy
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.keycloak.groups import Groups
from portal.core.services.bulk import check, dry_run, read_table
from portal.web.app import create_app
from portal.web.imports import jobs
from tests.helpers.platform import Platform

pytestmark = pytest.mark.keycloak

HEADER = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"


def siren(seed: int) -> str:
    base = f"{seed:08d}"
    return base + luhn.calc_check_digit(base)


def new_groupement(platform: Platform) -> str:
    code = f"GRP-{uuid.uuid4().hex[:6].upper()}"
    platform.admin.create_group({"name": code, "attributes": {"libelle": [code]}})
    return code


def run(
    gateway: KeycloakGateway, code: str, text: str, apply: bool = True, portal: str = ""
) -> Any:
    checked = check(read_table(text.encode(), "membres.csv"))
    emails, sirens = {r.email for r in checked.rows}, {r.siren for r in checked.rows}
    result = dry_run(checked, gateway.import_state(code, emails, sirens))
    if not apply or result.plan is None:
        return result, None
    outcome = gateway.apply_import(
        result.plan, f"{portal}/connexion", Change.now("support@test", "import")
    )
    return result, outcome


def user_events(platform: Platform) -> int:
    response = platform.admin.connection.raw_get(
        "admin/realms/collecte/admin-events", first=0, max=10000
    )
    return sum(1 for e in response.json() if str(e.get("resourcePath", "")).startswith("users/"))


@pytest.fixture
def bootstrap_gateway(platform: Platform) -> KeycloakGateway:
    """The command line's gateway: the bootstrap client, which may use the partial import."""
    return KeycloakGateway(platform.admin)


def test_dry_run_writes_nothing(platform: Platform, bootstrap_gateway: KeycloakGateway) -> None:
    code = new_groupement(platform)
    email = f"dry-{uuid.uuid4().hex[:8]}@exemple.fr"
    before = user_events(platform)
    result, _ = run(
        bootstrap_gateway, code, f"{HEADER}\n{email};A;B;;{siren(31)};Commune;1;collecte\n", False
    )
    assert result.plan is not None and len(result.plan.people) == 1
    assert bootstrap_gateway.find_person_by_email(email) is None
    assert platform.admin.get_group_by_path(f"/{code}")["subGroupCount"] == 0
    assert user_events(platform) == before


def test_apply_then_apply_again_changes_nothing(
    platform: Platform,
    bootstrap_gateway: KeycloakGateway,
    create_person: Callable[..., str],
    unique_email: Callable[[str], str],
) -> None:
    code = new_groupement(platform)
    a, b = siren(41), siren(42)
    marie, paul, tech = unique_email("marie"), unique_email("paul"), unique_email("tech")
    # an existing technical contact of another groupement's adherent, never activated
    tech_id = create_person(email=tech, technique=[f"{a}/9"], first_name="Tom", last_name="Tech")
    text = "\n".join(
        [
            HEADER,
            f"{marie};Dupont;Marie;02 99 00 00 01;{a};Commune A;1 2;collecte",
            f"{paul};Durand;Paul;06 12 34 56 78;{a};Commune A;1;technique",
            f"{paul};Durand;Paul;;{b};Syndicat B;1;collecte",
            f"{tech};Tech;Tom;;{a};Commune A;1;collecte",
        ]
    )
    result, outcome = run(bootstrap_gateway, code, text, portal=platform.portal_url)
    # The technical contact is known outside this groupement only: the report says of them what
    # it says of a new person, nothing (issue 10), and the summary counts them as newcomers.
    assert result.report == []
    assert result.plan is not None
    assert (result.plan.newcomers, result.plan.completed) == (3, 0)
    assert (outcome.created, outcome.updated, outcome.adherents_created) == (2, 1, 2)
    assert outcome.invitations_sent == 3 and outcome.failures == []
    # people, with attributes, groups and the default required action of any new person
    person = bootstrap_gateway.find_person_by_email(marie)
    assert person is not None
    assert person.scopes(Function.COLLECTE) == {Scope(a, "1"), Scope(a, "2")}
    assert person.phone_fixe == "+33299000001"
    assert person.invitation is not None
    representation = platform.admin.get_user(person.id)
    assert representation["requiredActions"] == ["TERMS_AND_CONDITIONS"]
    assert representation["username"] == marie
    groups = {g["path"] for g in platform.admin.get_user_groups(person.id)}
    assert groups == {f"/{code}/{a}"}
    paul_person = bootstrap_gateway.find_person_by_email(paul)
    assert paul_person is not None and paul_person.phone_mobile == "+33612345678"
    # the existing technical contact became collection contact without being re-created
    tech_person = bootstrap_gateway.find_person_by_email(tech)
    assert tech_person is not None and tech_person.id == tech_id
    assert tech_person.holds(Function.COLLECTE, Scope(a, "1"))
    assert tech_person.holds(Function.TECHNIQUE, Scope(a, "9"))
    # adherent groups with their lots and the first collection contact as principal
    group_a = platform.admin.get_group_by_path(f"/{code}/{a}")
    assert group_a["attributes"]["raisonSociale"] == ["Commune A"]
    assert sorted(group_a["attributes"]["lots"]) == ["1", "2"]
    assert group_a["attributes"]["principal.1"] == [person.id]
    assert group_a["attributes"]["principal.2"] == [person.id]
    group_b = platform.admin.get_group_by_path(f"/{code}/{b}")
    assert group_b["attributes"]["principal.1"] == [paul_person.id]
    # the invitations reached the mail sink
    for email in (marie, paul, tech):
        platform.mail.wait_for(email)

    mails = len(platform.mail.messages)
    events = user_events(platform)
    again, outcome2 = run(bootstrap_gateway, code, text, portal=platform.portal_url)
    assert again.plan is not None and again.plan.empty
    assert (outcome2.created, outcome2.updated, outcome2.invitations_sent) == (0, 0, 0)
    assert user_events(platform) == events
    assert len(platform.mail.messages) == mails


def test_principals_are_written_from_the_listing_and_a_group_changed_since_is_read_again(
    platform: Platform,
    bootstrap_gateway: KeycloakGateway,
    create_person: Callable[..., str],
    unique_email: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The import writes the principals from its one listing of the adherents, not from a read
    of each group. Someone names a principal of lot 1 after that listing: the import's write,
    based on the listing, is refused by Keycloak; the group is read again, lot 1 keeps the
    other writer's principal, lot 2 gets the import's."""
    code = new_groupement(platform)
    adherent = siren(45)
    parent = platform.admin.get_group_by_path(f"/{code}")["id"]
    platform.admin.create_group(
        {"name": adherent, "attributes": {"lots": ["1", "2"], "raisonSociale": ["Commune"]}},
        parent=parent,
    )
    group_id = platform.admin.get_group_by_path(f"/{code}/{adherent}")["id"]
    first = create_person(collecte=[f"{adherent}/1"])
    email = unique_email("second")
    original = Groups.claim_principals

    def after_someone_else(self: Groups, gid: str, *args: Any) -> frozenset[str]:
        group = platform.admin.get_group(gid)
        group["attributes"]["principal.1"] = [first]
        platform.admin.connection.raw_put(
            f"admin/realms/collecte/collecte-revisions/groups/{gid}", json.dumps(group)
        )
        return original(self, gid, *args)

    monkeypatch.setattr(Groups, "claim_principals", after_someone_else)
    line = f"{email};A;B;;{adherent};Commune;1 2;collecte"
    _, outcome = run(bootstrap_gateway, code, f"{HEADER}\n{line}\n", portal=platform.portal_url)

    person = bootstrap_gateway.find_person_by_email(email)
    assert person is not None
    attributes = platform.admin.get_group(group_id)["attributes"]
    assert attributes["principal.1"] == [first]
    assert attributes["principal.2"] == [person.id]
    assert outcome.principals == 1 and outcome.failures == []


def test_one_person_principal_of_many_adherents_at_once(
    platform: Platform, bootstrap_gateway: KeycloakGateway, unique_email: Callable[[str], str]
) -> None:
    """The principals are written several at a time; Keycloak creates one permission per new
    principal (CoordinatorPermissionsListener). Two writes naming the same new person at once
    would both create it, and one would fail: the writes naming one person go one after the
    other, and every adherent gets its principal."""
    # Keycloak writes principals' permissions once the policy they grant to exists (it comes
    # with the first groupement that has coordinators): made here, whatever ran before.
    client_uuid = ensure_admin_permissions(platform.admin)
    ensure_user_managers_policy(platform.admin, client_uuid)
    code = new_groupement(platform)
    email = unique_email("principale")
    sirens = [siren(500 + index) for index in range(8)]
    lines = [f"{email};Nom;Prénom;;{s};Commune {s};1 2;collecte" for s in sirens]
    text = "\n".join([HEADER, *lines])
    _, outcome = run(bootstrap_gateway, code, text, portal=platform.portal_url)

    person = bootstrap_gateway.find_person_by_email(email)
    assert person is not None
    assert (outcome.principals, outcome.failures) == (2 * len(sirens), [])
    for adherent in sirens:
        attributes = platform.admin.get_group_by_path(f"/{code}/{adherent}")["attributes"]
        assert (attributes["principal.1"], attributes["principal.2"]) == ([person.id], [person.id])
    assert find_by_name(platform.admin, client_uuid, f"interlocuteur principal {person.id}")


def test_the_portals_account_creates_one_by_one(
    platform: Platform, gateway: KeycloakGateway, unique_email: Callable[[str], str]
) -> None:
    """The portal's service account has `manage-users` only: Keycloak refuses it the partial
    import (403), so the gateway creates each person; the result is the same."""
    code = new_groupement(platform)
    email = unique_email("portail")
    _, outcome = run(gateway, code, f"{HEADER}\n{email};A;B;;{siren(51)};Commune;1;technique\n")
    assert outcome.created == 1 and outcome.invitations_sent == 0
    person = gateway.find_person_by_email(email)
    assert person is not None and person.holds(Function.TECHNIQUE, Scope(siren(51), "1"))
    assert platform.admin.get_user(person.id)["requiredActions"] == ["TERMS_AND_CONDITIONS"]


def test_command_line_dry_run_apply_and_errors(
    platform: Platform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    unique_email: Callable[[str], str],
) -> None:
    monkeypatch.setenv(
        "COLLECTE_BOOTSTRAP_CLIENT_SECRET", platform.keycloak.bootstrap_client_secret
    )
    code = new_groupement(platform)
    email = unique_email("cli")
    good = tmp_path / "membres.csv"
    good.write_text(f"{HEADER}\n{email};A;B;;{siren(61)};Commune;1;collecte\n", "utf-8")
    url = ["--url", platform.keycloak_url, "--portail", platform.portal_url, "--groupement", code]
    assert bulk_import.main([str(good), *url]) == 0
    assert "Essai à blanc" in capsys.readouterr().out
    assert KeycloakGateway(platform.admin).find_person_by_email(email) is None
    assert bulk_import.main([str(good), *url, "--appliquer"]) == 0
    out = capsys.readouterr().out
    assert "1 personne(s) créée(s)" in out and "1 invitation(s) envoyée(s)" in out
    bad = tmp_path / "erreurs.csv"
    bad.write_text(f"{HEADER}\n{email};A;B;;213500011;Commune;1;collecte\n", "utf-8")
    assert bulk_import.main([str(bad), *url, "--appliquer"]) == 1
    assert "SIREN invalide" in capsys.readouterr().out


@pytest.mark.parametrize("way", [0, 1, 2], ids=["lecture de l'extension", "recherches", "listage"])
def test_a_siren_of_another_groupement_is_refused(
    platform: Platform,
    gateway: KeycloakGateway,
    unique_email: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    way: int,
) -> None:
    """Found by the extension's by-siren read; without it (a path Keycloak does not know), by
    one search per SIREN for a short file, by listing the other groupements' adherents otherwise
    (forced here with no search allowed)."""
    if way:
        monkeypatch.setattr(groups_module, "BY_SIREN_PATH", "collecte-pages/adherents/absente")
    if way == 2:
        monkeypatch.setattr(groups_module, "SEARCHES_PER_PAGE", 0)
    other, code = new_groupement(platform), new_groupement(platform)
    taken = siren(71 + way)
    parent = platform.admin.get_group_by_path(f"/{other}")["id"]
    platform.admin.create_group({"name": taken, "attributes": {"lots": ["1"]}}, parent=parent)
    text = "\n".join(
        [
            HEADER,
            f"{unique_email('libre')};A;B;;{siren(81 + way)};Commune;1;collecte",
            f"{unique_email('pris')};A;B;;{taken};Commune;1;collecte",
        ]
    )
    result, _ = run(gateway, code, text)
    assert result.plan is None
    assert [(e.line, e.message) for e in result.errors] == [
        (3, f"Le SIREN {taken} est déjà adhérent d’un autre groupement : contactez le support.")
    ]
    assert platform.admin.get_group_by_path(f"/{code}")["subGroupCount"] == 0


def test_the_queues_consumer_runs_an_import_job(
    platform: Platform,
    gateway: KeycloakGateway,
    unique_email: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """The confirmation records the job in the queue's SQLite file; the consumer
    (``python -m portal.worker``, its own process) builds its own gateway from the
    configuration, applies the file and records the outcome."""
    code = new_groupement(platform)
    email = unique_email("tache")
    data = f"{HEADER}\n{email};A;B;;{siren(91)};Commune;1;collecte\n".encode()
    config = {
        **platform.portal_config,
        "TASKS_FILE": str(tmp_path / "taches.sqlite3"),
    }
    app = create_app(config)
    with app.test_request_context():
        change = Change.now("support@test", "import en masse")
        job, started = jobs.start(
            code, "m.csv", data, f"{platform.portal_url}/connexion", change, 3
        )
    assert started and job.running
    env = {
        **os.environ,
        **{
            f"COLLECTE_{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in config.items()
        },
    }
    worker = subprocess.Popen([sys.executable, "-m", "portal.worker"], env=env)
    try:
        with app.app_context():
            deadline = time.monotonic() + 60
            while (current := jobs.load(job.id)) is not None and current.running:
                assert time.monotonic() < deadline, current
                time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert current is not None and current.state is jobs.JobState.DONE, current
    assert (current.done, current.total) == (3, 3)  # adherent, person, invitation
    assert current.outcome is not None and current.outcome.invitations_sent == 1
    assert current.runner.endswith(f":{worker.pid}")
    person = gateway.find_person_by_email(email)
    assert person is not None and person.last_change is not None
    assert person.last_change.by == "support@test"
    platform.mail.wait_for(email)
