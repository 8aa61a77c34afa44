"""Confirming an import at `/coordination/<groupement>/import`: the background job that applies
the dry-run file, its page following the progress then showing the outcome or a French failure
message, a person created between the dry run and the job, and one import at a time per
groupement, against the Admin API as Keycloak answers it (strict mocks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import responses
from flask.testing import FlaskClient
from requests import PreparedRequest

from portal.web import task_queue
from portal.web.imports import jobs
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, SIREN_A, group_json, user_json
from tests.helpers.pages import get_page, html
from tests.helpers.personas import SUPPORT_USER
from tests.helpers.settings import ADMIN_REALM_URL, ADMIN_USERS_URL

from ._support import URL, groupement_state, save_job, upload

NEW_ID = "n0000000-0000-4000-8000-00000000000n"


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
