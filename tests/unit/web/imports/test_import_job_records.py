"""The import jobs' records in the task queue's store: who may open a job's page, the list of
the groupement's latest jobs, records of an earlier version or damaged, a still job resumed
then given up, a superseded attempt, and the purge of what is older than a week."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from portal.core.services.bulk import Kind, Outcome, ReportLine
from portal.web import task_queue
from portal.web.imports import jobs
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT
from tests.helpers.pages import html
from tests.helpers.settings import ADMIN_REALM_URL

from ._support import OTHER_COORDINATOR, URL, SignIn, save_job, staff_groups


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
