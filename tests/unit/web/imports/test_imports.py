"""Import page `/coordination/<groupement>/import`: access, dry run report, confirmation, the
background job applying it and its page, against the Admin API as Keycloak answers it (strict
mocks)."""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from requests import PreparedRequest
from responses import matchers
from werkzeug.test import TestResponse

from portal.core.services.bulk import Kind, Outcome, ReportLine
from portal.web import task_queue
from portal.web.gateway import get_gateway
from portal.web.imports import jobs
from tests.helpers.admin_api import BY_SIREN_URL, AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, SIREN_A, group_json, user_json
from tests.helpers.pages import assert_accessible, get_page, html
from tests.helpers.personas import SUPPORT_USER, TECHNICIAN
from tests.helpers.settings import ADMIN_GROUPS_URL, ADMIN_REALM_URL, ADMIN_USERS_URL
from tests.helpers.tasks import consumer

Post = Callable[..., TestResponse]
SignIn = Callable[[Mapping[str, Any]], None]
URL = f"/coordination/{GROUPEMENT}/import"
HEADER = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"
OTHER_COORDINATOR = user_json(
    "c0000000-0000-4000-8000-0000000000cc", "paul.nord@groupement-nord.fr", "Paul", "Nord"
)
NEW_ID = "n0000000-0000-4000-8000-00000000000n"
#: A valid SIREN that is an adherent of another groupement, GRP-Y.
SIREN_Y = "552081317"


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Flask]:
    """The portal with its task queue in the test's own SQLite file, its tasks run by a thread
    of the test (as a consumer would), and an application context for the tests' own reads."""
    app = make_app(TASKS_IMMEDIATE=False, TASKS_FILE=str(tmp_path / "taches.sqlite3"))
    with consumer(app), app.app_context():
        yield app


def staff_groups(api: AdminApi, person_id: str, *codes: str) -> None:
    groups = [{"id": f"m-{c}", "name": c, "path": f"/coordonnateurs/{c}"} for c in codes]
    query = {"briefRepresentation": "True", "first": "0", "max": "100"}
    api.kc.get(
        f"{ADMIN_USERS_URL}/{person_id}/groups",
        json=groups,
        match=[matchers.query_param_matcher(query)],
    )


def upload(client: FlaskClient, csrf: str, *lines: str, name: str = "membres.csv") -> TestResponse:
    data = ("\n".join([HEADER, *lines]) + "\n").encode()
    return client.post(
        URL,
        data={"csrf_token": csrf, "fichier": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def groupement_state(api: AdminApi, people: list[dict[str, Any]], groups: list[Any]) -> None:
    """The groupement, its adherents, the realm's user count and one search per e-mail."""
    api.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    api.kc.get(f"{ADMIN_REALM_URL}/groups/g-groupement/children", json=groups)
    api.kc.get(f"{ADMIN_USERS_URL}/count", json=3)
    known = [person for person in people if "id" in person]
    for group in groups if known else []:
        # The members of the adherents of known people (portal.core.authority: membership counts).
        members = [{"id": p["id"]} for p in known if group["name"] in str(p.get("attributes"))]
        api.kc.get(f"{ADMIN_REALM_URL}/groups/{group['id']}/members", json=members)
    for person in people:
        query = {"email": person["email"], "exact": "true", "first": "0", "max": "2"}
        api.kc.get(
            ADMIN_USERS_URL,
            json=[person] if "id" in person else [],
            match=[matchers.query_param_matcher(query)],
        )


def test_a_coordinator_of_another_groupement_is_refused(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn, csrf_token: Callable[[], str]
) -> None:
    admin_api.token()
    admin_api.roles(OTHER_COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, OTHER_COORDINATOR["id"], "GRP-NORD")
    sign_in_as(OTHER_COORDINATOR)
    response = upload(client, csrf_token(), f"a@exemple.fr;A;B;;{SIREN_A};C;1;collecte")
    assert response.status_code == 403
    assert admin_api.writes() == []


def test_a_member_is_refused(client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn) -> None:
    admin_api.token()
    admin_api.roles(TECHNICIAN["id"])
    sign_in_as(TECHNICIAN)
    assert client.get(URL).status_code == 403


def test_the_form_and_its_file_checks(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    support.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    page = html(client.get(URL))
    assert page.find("input", type="file").attrs["name"] == "fichier"
    response = upload(client, csrf_token(), "x", name="membres.pdf")
    assert response.status_code == 422
    assert "CSV (.csv) ou Excel (.xlsx)" in html(response).text()
    assert support.writes() == []


def test_dry_run_report_with_errors_offers_no_confirmation(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    groupement_state(support, [TECHNICIAN], [group_json(SIREN_A)])
    response = upload(
        client,
        csrf_token(),
        f"{TECHNICIAN['email']};Technicien;Jean;;{SIREN_A};;1;collecte",
        "x@exemple.fr;A;B;;213500011;C;1;collecte",
    )
    assert response.status_code == 200
    page = html(response)
    rows = page.by_id("rapport").find_all("tr", **{"data-ligne": "3"})
    assert rows[0].attrs["class"] == "erreur"
    assert "SIREN invalide" in rows[0].text()
    notice = page.by_id("rapport").find("tr", **{"data-ligne": "2"})
    assert notice.attrs["class"] == "notice"
    assert "fonction « collecte » ajoutée" in notice.text()
    assert not page.find_all("form", id="confirmation")
    assert support.writes() == []


def confirm_new_person(client: FlaskClient, support: AdminApi, csrf: Callable[[], str]) -> str:
    """Dry run of one new collection contact, then « Confirmer l'import »: the answer sends the
    browser to the job's page (303), whose path is returned."""
    groupement_state(support, [{"email": "nouvelle@exemple.fr"}], [group_json(SIREN_A)])
    line = f"nouvelle@exemple.fr;Durand;Anne;06 12 34 56 78;{SIREN_A};;1;collecte"
    page = html(upload(client, csrf(), line))
    assert "Aucune erreur" in page.by_id("bilan").text()
    assert page.find_all("form", id="confirmation")
    assert support.writes() == []
    response = client.post(URL, data={"confirmation-csrf_token": csrf(), "etape": "confirmer"})
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    assert location.startswith(f"{URL}/")
    return location


def finished(client: FlaskClient, location: str) -> Any:
    """The job's page once the consumer has run it."""
    deadline = time.monotonic() + 10
    while (page := get_page(client, location)).find_all(
        "section", id="tache", data_etat="en cours"
    ):
        assert time.monotonic() < deadline, "l'import ne se termine pas"
        time.sleep(0.05)
    return page


def test_confirm_starts_a_job_whose_page_shows_progress_then_the_outcome(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    # the job: the portal's account may not use the partial import → one creation
    support.kc.get(
        f"{ADMIN_REALM_URL}/authentication/required-actions",
        json=[
            {"alias": "TERMS_AND_CONDITIONS", "enabled": True, "defaultAction": True},
            {"alias": "UPDATE_PASSWORD", "enabled": True, "defaultAction": False},
        ],
    )
    support.kc.post(f"{ADMIN_REALM_URL}/partialImport", status=403, json={"error": "forbidden"})
    support.accept_create(NEW_ID)
    # the principal is written from the listing of the groupement's adherents: no read of its own
    support.group(group_json(SIREN_A), read=False)
    support.realm()
    support.accept_update(NEW_ID)
    # the invitation e-mail waits until the test has seen the job running
    sending, release = threading.Event(), threading.Event()

    def send(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        sending.set()
        assert release.wait(10)
        return 204, {}, ""

    support.kc.add_callback(
        responses.PUT, f"{ADMIN_USERS_URL}/{NEW_ID}/execute-actions-email", callback=send
    )
    location = confirm_new_person(client, support, csrf_token)
    try:
        assert sending.wait(10)
        running = get_page(client, location)
    finally:
        release.set()
    # followed in place by a script of the portal's own, never by a timed reload (WCAG 2.2.1)
    assert not running.find_all("meta", http_equiv="refresh")
    assert running.find("script").attrs["src"] == "/static/tache.js"
    assert running.by_id("tache").attrs["data-etat"] == "en cours"
    assert running.find("title").text().startswith("Import en cours (1 étape(s) sur 2)")
    progress = running.by_id("avancement")
    assert progress.tag == "progress"
    assert (progress.attrs["value"], progress.attrs["max"]) == ("1", "2")
    assert running.find("label", for_="avancement").text() == "Avancement de l’import"
    assert running.by_id("etapes").attrs["role"] == "status"

    done = finished(client, location)
    assert not done.find_all("script")
    assert "terminé" in done.by_id("titre-resultat").text()
    counters = {
        li.attrs["data-compteur"]: li.text()
        for li in done.find_all("li")
        if "data-compteur" in li.attrs
    }
    assert counters["crees"].endswith(": 1")
    assert counters["invitations"].endswith(": 1")
    (created,) = support.sent("POST")
    assert created["email"] == "nouvelle@exemple.fr"
    assert created["requiredActions"] == ["TERMS_AND_CONDITIONS"]
    assert created["groups"] == [f"/{GROUPEMENT}/{SIREN_A}"]
    assert created["attributes"]["collecte"] == [f"{SIREN_A}/1"]
    assert created["attributes"]["telephoneMobile"] == ["+33612345678"]
    # the author is the signed-in staff member, as when the import ran in the request
    assert SUPPORT_USER["email"] in created["attributes"]["derniereModification"][0]
    assert support.groups[f"g-{SIREN_A}"]["attributes"]["principal.1"] == [NEW_ID]
    # once done, the store keeps the job's state only: the file is gone with its order, the
    # groupement's lock released, and the state names nobody beyond the report
    (key,) = task_queue.queue().storage.result_items()
    assert key == f"collecte-import:tache:{location.rsplit('/', 1)[1]}"
    assert "nouvelle@exemple.fr" not in task_queue.queue().get(key, peek=True)
    # the kept file was used once: confirming again finds nothing
    again = client.post(URL, data={"confirmation-csrf_token": csrf_token(), "etape": "confirmer"})
    assert again.status_code == 409


def test_a_person_created_between_the_dry_run_and_the_job_is_reported_and_nothing_else_written(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    """The dry run finds nobody with the address; before the job writes, someone creates a
    person with it (in other letters case): Keycloak refuses the creation (409) and the job's
    page says so on the line, in French; no invitation, no principal, nothing else written."""
    support.kc.get(
        f"{ADMIN_REALM_URL}/authentication/required-actions",
        json=[{"alias": "TERMS_AND_CONDITIONS", "enabled": True, "defaultAction": True}],
    )
    support.kc.post(f"{ADMIN_REALM_URL}/partialImport", status=403, json={"error": "forbidden"})
    support.accept_create(NEW_ID)
    groupement_state(support, [{"email": "nouvelle@exemple.fr"}], [group_json(SIREN_A)])
    line = f"nouvelle@exemple.fr;Durand;Anne;06 12 34 56 78;{SIREN_A};;1;collecte"
    assert "Aucune erreur" in html(upload(client, csrf_token(), line)).by_id("bilan").text()
    meanwhile = user_json(
        "m0000000-0000-4000-8000-00000000000m", "Nouvelle@Exemple.fr", "Anne", "Durand"
    )
    support.someone_has(meanwhile)

    response = client.post(
        URL, data={"confirmation-csrf_token": csrf_token(), "etape": "confirmer"}
    )
    assert response.status_code == 303, response.text
    done = finished(client, response.headers["Location"])

    assert "terminé" in done.by_id("titre-resultat").text()
    counters = {
        li.attrs["data-compteur"]: li.text()
        for li in done.by_id("compteurs").iter()
        if "data-compteur" in li.attrs
    }
    assert counters["crees"].endswith(": 0")
    assert counters["invitations"].endswith(": 0")
    (failure,) = done.by_id("echecs").find_all("tr", class_="erreur")
    assert failure.attrs["data-ligne"] == "2"
    assert failure.find("td").text() == (
        "nouvelle@exemple.fr n’a pas été créé (une personne a cette adresse, créée entre-temps) "
        ": relancez l’import."
    )
    assert support.writes() == [
        f"POST {ADMIN_REALM_URL}/partialImport",
        f"POST {ADMIN_USERS_URL}",
    ]
    assert support.people == {meanwhile["id"]: meanwhile}


def test_a_job_that_keycloak_stops_ends_in_failure_with_a_french_message(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    support.kc.get(f"{ADMIN_REALM_URL}/authentication/required-actions", status=503)
    location = confirm_new_person(client, support, csrf_token)
    page = finished(client, location)
    assert page.find("title").text().startswith("Erreur : import interrompu")
    message = page.by_id("echec")
    assert message.attrs["role"] == "alert"
    assert message.text() == jobs.FAILED
    assert "idempotent" in message.text() and "même fichier" in message.text()
    assert "Traceback" not in page.text() and "503" not in page.text()
    assert support.writes() == []


def save_job(groupement: str = GROUPEMENT, **changes: Any) -> str:
    job = jobs.Job(secrets.token_urlsafe(24), groupement, "membres.csv", 2, **changes)
    jobs.save(job)
    return job.id


def test_a_second_import_of_the_groupement_waits_for_the_first_to_end(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    ongoing = save_job(started_by="claire@coordination.fr")
    task_queue.queue().put(f"collecte-import:en-cours:{GROUPEMENT}", ongoing)  # as `start` holds it
    groupement_state(support, [{"email": "nouvelle@exemple.fr"}], [group_json(SIREN_A)])
    line = f"nouvelle@exemple.fr;Durand;Anne;06 12 34 56 78;{SIREN_A};;1;collecte"
    assert html(upload(client, csrf_token(), line)).find_all("form", id="confirmation")

    refused = client.post(URL, data={"confirmation-csrf_token": csrf_token(), "etape": "confirmer"})

    assert refused.status_code == 409
    alert = html(refused).by_id("expire")
    assert "Un import est déjà en cours pour ce groupement" in alert.text()
    assert "claire@coordination.fr" in alert.text()
    assert alert.find("a").attrs["href"] == f"{URL}/{ongoing}"
    assert support.writes() == []
    # another groupement's import does not stand in the way
    assert jobs.running("GRP-Y") is None


def test_an_unknown_job_is_not_found(client: FlaskClient, support: AdminApi) -> None:
    assert client.get(f"{URL}/{secrets.token_urlsafe(24)}").status_code == 404
    assert client.get(f"{URL}/..%2F..%2Fetc%2Fpasswd").status_code == 404
    # another groupement's job, under this groupement's address
    other = save_job("GRP-Y")
    assert client.get(f"{URL}/{other}").status_code == 404


def test_a_coordinator_of_another_groupement_may_not_see_a_job(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn
) -> None:
    job_id = save_job()
    admin_api.token()
    admin_api.roles(OTHER_COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, OTHER_COORDINATOR["id"], "GRP-NORD")
    sign_in_as(OTHER_COORDINATOR)
    assert client.get(f"{URL}/{job_id}").status_code == 403
    assert admin_api.writes() == []


def put_raw(job_id: str, text: str) -> None:
    """A job's record as the queue's store holds it."""
    task_queue.queue().put(f"collecte-import:tache:{job_id}", text)


def test_job_records_of_an_earlier_version_or_damaged_do_not_break_the_pages(
    client: FlaskClient, support: AdminApi
) -> None:
    """A record written before `started_by`/`started_at` existed is still shown; a damaged one
    is left out of the list, and its own page is « not found » rather than an error."""
    old = json.loads(jobs.Job("o" * 32, GROUPEMENT, "ancien.csv", 2).to_json())
    del old["started_by"], old["started_at"], old["attempt"], old["runner"]
    put_raw("o" * 32, json.dumps(old))
    put_raw("d" * 32, "{pas du json")
    support.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    rows = html(client.get(URL)).by_id("imports-recents").find_all("tr")[1:]
    assert [row.attrs["data-tache"] for row in rows] == ["o" * 32]
    assert client.get(f"{URL}/{'o' * 32}").status_code == 200
    assert client.get(f"{URL}/{'d' * 32}").status_code == 404


def test_the_upload_page_lists_the_groupements_latest_jobs(
    client: FlaskClient, support: AdminApi
) -> None:
    """A job stays within reach once its page is closed; who started it, and when, is shown."""
    older = save_job(
        started_by="claire@groupement.fr", started_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    )
    newer = save_job(started_by="support@collecte.test", done=1)
    elsewhere = save_job("GRP-Y")
    support.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    rows = html(client.get(URL)).by_id("imports-recents").find_all("tr")[1:]
    assert [row.attrs["data-tache"] for row in rows] == [newer, older]
    assert elsewhere not in str(rows)
    cells = [rows[1].find("th").text(), *(cell.text() for cell in rows[1].find_all("td"))]
    assert cells == [
        "membres.csv",
        "claire@groupement.fr",
        "02/11/2026 à 10:00 (heure de Paris)",
        "en cours (0 / 2 étapes)",
    ]
    assert rows[0].find("a").attrs["href"] == f"{URL}/{newer}"
    assert support.writes() == []


def test_a_job_state_survives_its_record(app: Flask) -> None:
    outcome = Outcome(created=3, failures=[ReportLine(4, Kind.ERROR, "a@x.fr non modifié")])
    done = jobs.Job("x" * 32, GROUPEMENT, "m.csv", 5, 5, jobs.JobState.DONE, outcome=outcome)
    assert jobs.Job.from_json(done.to_json()) == done


def still(job_id: str) -> None:
    """The job's consumer died: its record stopped moving long ago."""
    job = jobs.load(job_id)
    assert job is not None
    job.updated_at = datetime.now(UTC) - jobs.stale_after() * 2
    put_raw(job_id, job.to_json())


def test_a_still_job_is_resumed_once_then_given_up_after_its_last_attempt(app: Flask) -> None:
    """Whoever notices a still job first enqueues its next attempt (the page, or every minute
    the consumers); after MAX_ATTEMPTS it is failed with the French message."""
    job_id = save_job()
    still(job_id)
    resumed = jobs.load(job_id)
    assert resumed is not None and resumed.running and resumed.attempt == 2
    assert datetime.now(UTC) - resumed.updated_at < jobs.stale_after()
    assert jobs.load(job_id).attempt == 2  # type: ignore[union-attr]  # not moving on twice
    for _ in range(jobs.MAX_ATTEMPTS - 1):
        still(job_id)
        jobs.resume_stalled()
    given_up = jobs.load(job_id)
    assert given_up is not None and given_up.state is jobs.JobState.FAILED
    assert given_up.message == jobs.FAILED


def test_a_run_whose_attempt_was_superseded_does_nothing(app: Flask) -> None:
    """A late delivery of an attempt already replaced by another one: no Keycloak call (none
    is mocked: one would fail the job)."""
    job_id = save_job(attempt=2)
    task_queue.queue().put(
        f"collecte-import:ordre:{job_id}", {"data": b"", "uri": "", "change": None}
    )
    jobs.run(job_id, 1)
    job = jobs.load(job_id)
    assert job is not None and job.running and job.runner == ""


# --- request size -------------------------------------------------------------------------------


def test_a_body_above_the_limit_gets_the_french_413_page_before_anything_else(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn, csrf_token: Callable[[], str]
) -> None:
    sign_in_as(SUPPORT_USER)
    data = b"x" * (6 * 1024 * 1024)
    response = client.post(
        URL,
        data={"csrf_token": csrf_token(), "fichier": (io.BytesIO(data), "membres.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    page = html(response)
    assert_accessible(page)
    assert page.find("h1").text() == "Fichier trop volumineux"
    assert "5 Mo au plus" in page.text()
    assert len(admin_api.kc.calls) == 0  # refused before reading it, and before asking Keycloak


def test_a_file_just_above_5_mb_gets_the_form_message(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    support.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    data = b"x" * (5 * 1024 * 1024 + 1)
    response = client.post(
        URL,
        data={"csrf_token": csrf_token(), "fichier": (io.BytesIO(data), "membres.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "ne doit pas dépasser 5 Mo" in html(response).text()


# --- a SIREN of another groupement ----------------------------------------------------------


def other_groupements(api: AdminApi, adherents: int = 1) -> None:
    """GET groups?briefRepresentation=true: the groupements and how many adherents each has."""
    groupements = [
        {"id": "g-groupement", "name": GROUPEMENT, "subGroupCount": 1},
        {"id": "g-y", "name": "GRP-Y", "subGroupCount": adherents},
        {"id": "g-coordonnateurs", "name": "coordonnateurs", "subGroupCount": 2},
    ]
    query = {"briefRepresentation": "true", "first": "0", "max": "1000"}
    api.kc.get(ADMIN_GROUPS_URL, json=groupements, match=[matchers.query_param_matcher(query)])


def adherent_of_y(api: AdminApi, siren: str) -> None:
    """gateway.adherent(siren): the search answers GRP-Y holding the SIREN."""
    group = {"id": f"g-{siren}", "name": siren, "path": f"/GRP-Y/{siren}", "attributes": {}}
    query = {"search": siren, "exact": "true", "briefRepresentation": "false"}
    query.update(first="0", max="100")
    found = [{"id": "g-y", "name": "GRP-Y", "path": "/GRP-Y", "subGroupCount": 1}]
    for url, answer in ((ADMIN_GROUPS_URL, found), (f"{ADMIN_GROUPS_URL}/g-y/children", [group])):
        api.kc.get(url, json=answer, match=[matchers.query_param_matcher(query)])


def test_a_siren_of_another_groupement_is_an_error_on_its_line(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    groupement_state(support, [{"email": "a@exemple.fr"}], [group_json(SIREN_A)])
    other_groupements(support)
    adherent_of_y(support, SIREN_Y)
    response = upload(
        client,
        csrf_token(),
        f"a@exemple.fr;Durand;Anne;;{SIREN_A};;1;collecte",
        f"a@exemple.fr;Durand;Anne;;{SIREN_Y};Société Y;1;technique",
    )
    assert response.status_code == 200
    page = html(response)
    row = page.by_id("rapport").find("tr", **{"data-ligne": "3"})
    assert row.attrs["class"] == "erreur"
    assert (
        f"Le SIREN {SIREN_Y} est déjà adhérent d’un autre groupement : contactez le support."
        in row.text()
    )
    assert "1 ligne(s) en erreur" in page.by_id("bilan").text()
    assert not page.find_all("form", id="confirmation")
    assert support.writes() == []


def groupement_of_a(api: AdminApi) -> None:
    """The token, and the groupement with its one adherent, SIREN_A."""
    api.token()
    api.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    api.kc.get(f"{ADMIN_GROUPS_URL}/g-groupement/children", json=[group_json(SIREN_A)])


def test_many_new_sirens_are_looked_for_by_listing_the_other_groupements(
    app: Flask, admin_api: AdminApi
) -> None:
    """Beyond SEARCHES_PER_PAGE new SIRENs per page of adherents to read, one listing of the
    other groupements' adherents replaces one search per SIREN."""
    sirens = {f"{n:08d}" + "0" for n in range(30)} | {SIREN_Y}
    groupement_of_a(admin_api)
    other_groupements(admin_api, adherents=2)
    query = {"briefRepresentation": "true", "first": "0", "max": "1000"}
    admin_api.kc.get(
        f"{ADMIN_GROUPS_URL}/g-y/children",
        json=[{"id": "g-1", "name": SIREN_Y}, {"id": "g-2", "name": "453500017"}],
        match=[matchers.query_param_matcher(query)],
    )
    with app.app_context():
        existing = get_gateway().import_state(GROUPEMENT, (), sirens | {SIREN_A})
    assert existing.elsewhere == {SIREN_Y: "GRP-Y"}
    assert set(existing.adherents) == {SIREN_A}


def test_the_extensions_read_tells_in_one_call_which_sirens_another_groupement_holds(
    app: Flask, admin_api: AdminApi
) -> None:
    """With the extension's adherents/by-siren read: one call for the file's new SIRENs, no
    listing of the groupements nor search per SIREN (none is registered); the groupement itself
    and the coordinators' markers are no other holders."""
    sirens = {f"{n:08d}" + "0" for n in range(30)} | {SIREN_Y}
    groupement_of_a(admin_api)
    marker = "000000000"
    admin_api.by_siren_read({SIREN_Y: "GRP-Y", marker: "coordonnateurs", "453500017": "GRP-Y"})
    with app.app_context():
        existing = get_gateway().import_state(GROUPEMENT, (), sirens | {SIREN_A, marker})
    assert existing.elsewhere == {SIREN_Y: "GRP-Y"}
    [asked] = admin_api.sent("POST", BY_SIREN_URL)
    assert set(asked) == sirens | {marker}  # not SIREN_A, an adherent of the groupement


def test_confirm_needs_csrf(client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn) -> None:
    sign_in_as(SUPPORT_USER)
    response = client.post(URL, data={"etape": "confirmer"})
    assert response.status_code == 400
    assert admin_api.writes() == []


def test_starting_a_job_removes_what_is_older_than_a_week(app: Flask) -> None:
    week_ago = datetime.now(UTC) - jobs.KEEP_FOR - timedelta(minutes=1)
    upload_key = f"collecte-import:depot:{jobs.keep_upload(b'membres')}"
    task_queue.queue().put(upload_key, {"data": b"membres", "at": week_ago})
    old_job = jobs.Job("a" * 32, GROUPEMENT, "m.csv", 1, 1, jobs.JobState.DONE)
    old_job.updated_at = week_ago
    put_raw(old_job.id, old_job.to_json())
    fresh = save_job()
    jobs._purge()
    assert task_queue.queue().get(upload_key, peek=True) is None
    assert jobs.load(old_job.id) is None
    assert jobs.load(fresh) is not None
