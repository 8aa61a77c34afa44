"""The production topology (collecte_kc.production: PostgreSQL, two Keycloak nodes clustered
through the database, nginx terminating TLS, two portal hosts) survives a Keycloak node
killed, PostgreSQL restarted and a portal host lost in the middle of an import: the member stays
signed in, the import finishes on the other host, nothing written is lost, and meanwhile the
portal answers with its French page, never a stack trace; and a backup of PostgreSQL restored
brings back what was written before it (the restore drill). Under a bounded mixed load (sign-ins,
pages, writes), no 5xx and no acknowledged write lost.

Marker ``production``: about a minute for the topology's start, once for the module."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from benchmarks import population
from benchmarks.mixed_load import lost_writes, members_of, mixed_load
from benchmarks.signins import portal_sign_in
from benchmarks.topology import trusting
from collecte_kc.production import Topology, topology
from portal.core.domain import Change
from portal.web.app import create_app
from portal.web.imports import jobs
from tests.helpers.read_cache import realm_changed

pytestmark = pytest.mark.production


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    work: Path = tmp_path_factory.mktemp("production")
    # This process's clients (scripted browser, Admin API) trust the proxy's certificate.
    with topology(work) as running, trusting(running.certificate):
        print(f"\nTopologie de production prête en {running.started_seconds:.0f} s")
        yield running


def member(prod: Topology) -> tuple[str, str]:
    """A collection contact with a password; (e-mail, SIREN)."""
    made = population.groupement(prod.admin, 1, 1, "PANNE")
    return made.emails[0], made.sirens[0]


def signed_in(prod: Topology) -> tuple[str, requests.Session, str]:
    """A new collection contact signed in through the proxy, their SIREN/lot page open;
    (e-mail, browser, page's URL)."""
    email, siren = member(prod)
    _, browser = portal_sign_in(prod.public_url, email, population.PASSWORD)
    page = f"{prod.public_url}/espace/{siren}/1/"
    assert browser.get(page, timeout=30).status_code == 200
    return email, browser, page


def until(check: Any, timeout: float) -> float:
    """Poll `check()` until it is true; the seconds it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, "délai dépassé"
        time.sleep(0.2)
    return time.monotonic() - started


def test_a_member_signed_in_keeps_their_session_when_a_keycloak_node_dies(
    prod: Topology,
) -> None:
    _, browser, page = signed_in(prod)

    prod.nodes[0].kill()
    try:
        realm_changed(prod.portal_config)  # the page must ask Keycloak, now node B only
        seconds = until(lambda: browser.get(page, timeout=30).status_code == 200, 30)
        print(f"\nPage servie après la perte du nœud A en {seconds:.2f} s")
        # Keycloak's own session lives on in node B: a new portal session (its cookie
        # dropped) is opened through Keycloak without asking for the password again.
        for cookie in [c for c in browser.cookies if "collecte-session" in c.name]:
            browser.cookies.clear(cookie.domain, cookie.path, cookie.name)
        again = browser.get(f"{prod.public_url}/connexion", timeout=30)
        assert "/realms/" not in again.url, "Keycloak redemande le mot de passe"
        assert "Connecté en tant que" in again.text
    finally:
        prod.nodes[0].restart()


def test_postgresql_restarted_the_platform_recovers_by_itself_with_the_french_page_meanwhile(
    prod: Topology,
) -> None:
    email, browser, page = signed_in(prod)
    person_id = prod.admin.get_users({"email": email, "exact": True})[0]["id"]

    prod.database.stop("fast")
    try:
        realm_changed(prod.portal_config)
        during = browser.get(page, timeout=60)
        assert during.status_code == 503
        assert "momentanément indisponible" in during.text and "Traceback" not in during.text
    finally:
        prod.database.start()
    # Every node's connection pool, straight after the restart and before anything else uses it:
    # each broken connection handed out would fail one request with a 500. A search always asks
    # the database (Keycloak's user cache would answer a read by id without it).
    for admin in prod.admins:
        for _ in range(25):
            found = admin.get_users({"email": email, "exact": True})
            assert [person["id"] for person in found] == [person_id]  # written before, still there
    seconds = until(lambda: browser.get(page, timeout=30).status_code == 200, 120)
    print(f"\nRetour après le redémarrage de PostgreSQL en {seconds:.2f} s")
    assert requests.get(f"{prod.public_url}/aide/connexion", timeout=10).status_code == 200


def test_a_backup_restored_brings_back_what_was_written_before_it(
    prod: Topology, tmp_path: Path
) -> None:
    """The restore drill of the operations guide: ``pg_dump`` while Keycloak runs, every node
    stopped, ``pg_restore``, the nodes started again."""
    saved, siren = member(prod)
    backup = tmp_path / "keycloak.dump"
    prod.database.dump(backup)
    later, _ = member(prod)

    for node in reversed(prod.nodes):
        node.stop()
    try:
        prod.database.restore(backup)
    finally:
        for node in prod.nodes:
            node.restart()

    def known(email: str) -> bool:
        return bool(prod.admin.get_users({"email": email, "exact": True}))

    assert known(saved) and not known(later)
    _, browser = portal_sign_in(prod.public_url, saved, population.PASSWORD)
    realm_changed(prod.portal_config)
    assert browser.get(f"{prod.public_url}/espace/{siren}/1/", timeout=30).status_code == 200


IMPORT_ROWS = 150


def test_an_import_finishes_on_the_other_host_when_its_host_dies(prod: Topology) -> None:
    """The job is recorded in the queue's shared store; the host whose consumer runs it is
    killed (gunicorn and consumer, SIGKILL) half-way; the other host's consumer resumes it once
    its progress has stood still for IMPORT_STALE_SECONDS, writing only what is missing."""
    code = f"GRP-IMPORT-{secrets.token_hex(3).upper()}"
    prod.admin.create_group({"name": code, "attributes": {"libelle": [code]}})
    siren = population.siren(90_000_000 + secrets.randbelow(10**6))
    emails = [f"import-{n}-{code.lower()}@exemple-adherent.fr" for n in range(IMPORT_ROWS)]
    header = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"
    rows = [f"{e};Import;Personne;;{siren};Commune panne;1;collecte" for e in emails]
    data = "\n".join([header, *rows]).encode()
    app = create_app(prod.portal_config)
    with app.test_request_context():
        change = Change.now("support@panne.test", "import en masse")
        job, started = jobs.start(
            code, "panne.csv", data, f"{prod.public_url}/connexion", change, 2 * IMPORT_ROWS + 1
        )
    assert started

    def current() -> jobs.Job:
        with app.app_context():
            found = jobs.load(job.id)
        assert found is not None
        return found

    until(lambda: current().done >= IMPORT_ROWS // 3, 120)
    runner_pid = int(current().runner.rsplit(":", 1)[1])
    (host,) = [h for h in prod.portals if h.worker is not None and h.worker.pid == runner_pid]
    host.kill()
    try:
        seconds = until(lambda: not current().running, 180)
    finally:
        host.start()  # the host comes back, as after a restart: the other tests need it
    print(f"\nImport terminé {seconds:.1f} s après la perte de son hôte ({host.name})")

    done = current()
    assert done.state is jobs.JobState.DONE, done
    assert done.attempt == 2 and not done.runner.endswith(f":{runner_pid}")
    # every line written once: one person per e-mail, all in the adherent's group
    members = prod.admin.get_group_members(
        prod.admin.get_group_by_path(f"/{code}/{siren}")["id"], {"max": 1000}
    )
    assert sorted(m["email"] for m in members) == sorted(emails)


#: The load's length in the test suite; the benchmark (benchmarks/topology.py) runs 5 minutes.
LOAD_SECONDS = 60
LOAD_CLIENTS = 6


def test_a_mixed_load_gets_no_server_error_and_loses_no_acknowledged_write(
    prod: Topology,
) -> None:
    made = population.groupement(prod.admin, LOAD_CLIENTS, LOAD_CLIENTS, "CHARGE")
    run = mixed_load(prod.public_url, members_of(made), LOAD_SECONDS)
    print(
        "\n"
        + ", ".join(
            f"{kind} : {run.count(kind)} (p95 {run.p95_ms(kind):.0f} ms)" for kind in run.times
        )
    )
    assert run.server_errors == [] and run.failures == []
    assert run.acknowledged, "aucune écriture confirmée"
    assert lost_writes(prod.admin, run.acknowledged) == []
