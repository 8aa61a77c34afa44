"""Confirmed bulk imports run as tasks of the queue (:mod:`portal.web.task_queue`).

Applying a file of 1,000 lines takes about 45 s (one creation per person, one invitation e-mail
per collection contact), beyond gunicorn's 30 s worker timeout: the confirmation only records a
job and enqueues it (:func:`start`); a consumer (``python -m portal.worker``, one per portal
host) runs it, and the browser follows it on a status page that reads the job (:func:`load`).

Everything lives in the queue's durable store, shared by the hosts (SQLite on one machine,
Redis for several): the job's state (JSON: progress, then the outcome the page shows), its order
(the file, who confirmed it, the invitations' link) and the uploads waiting for confirmation
(taken once). So any host serves any page, and a job survives the host that started it:

- **one import per groupement at a time**: a lock per groupement taken atomically by
  :func:`start` (a second confirmation is refused in French while the first runs);
- **never run twice at once**: each run carries its attempt number, and a run whose attempt is
  no longer the job's stops at its next step;
- **resumed after a crash**: a running job whose state has not moved for :func:`stale_after`
  (its consumer died) is enqueued again — by the status page that notices it, and every minute
  by the consumers. A run plans the file again against what Keycloak holds (as the dry run
  does), so a resumed run writes only what is missing and invites whoever is still not invited.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import Flask, current_app
from huey import crontab

from portal.core.domain import Change
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.bulk import (
    Checked,
    DryRun,
    Kind,
    Outcome,
    ReportLine,
    check,
    dry_run,
    import_steps,
    read_table,
)
from portal.web import task_queue
from portal.web.gateway import get_gateway

#: Jobs and abandoned uploads are removed after this long (their reports name people).
KEEP_FOR = timedelta(days=7)
#: A job interrupted this many times is given up (the page says to start it again).
MAX_ATTEMPTS = 3
FAILED = (
    "L’import s’est interrompu avant la fin : le service de connexion n’a pas répondu ou a "
    "refusé une écriture. Ce qui a déjà été enregistré est conservé. L’import est idempotent : "
    "relancez-le avec le même fichier, seul ce qui manque sera écrit."
)
_ID = re.compile(r"[A-Za-z0-9_-]{32}")
_PREFIX = "collecte-import:"
_TASK = "collecte.tasks.import"  # the import task, as registered on the application's queue
_log = logging.getLogger(__name__)


class JobState(StrEnum):
    RUNNING = "en cours"
    DONE = "terminé"
    FAILED = "échec"


class Superseded(Exception):
    """This run's attempt is no longer the job's: another run took over."""


@dataclass
class Job:
    id: str
    groupement: str
    file_name: str
    total: int
    done: int = 0
    state: JobState = JobState.RUNNING
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    outcome: Outcome | None = None
    message: str = ""
    started_by: str = ""  # e-mail of the staff member who confirmed the import
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempt: int = 1
    runner: str = ""  # host:pid of the consumer running the current attempt

    @property
    def running(self) -> bool:
        return self.state is JobState.RUNNING

    @property
    def failed(self) -> bool:
        return self.state is JobState.FAILED

    def to_json(self) -> str:
        return json.dumps(
            {
                **asdict(self),
                "updated_at": self.updated_at.isoformat(),
                "started_at": self.started_at.isoformat(),
                "outcome": asdict(self.outcome) if self.outcome else None,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Job:
        data: dict[str, Any] = json.loads(text)
        outcome = data.pop("outcome")
        if outcome is not None:
            failures = [
                ReportLine(f["line"], Kind(f["kind"]), f["message"], f["column"])
                for f in outcome.pop("failures")
            ]
            outcome = Outcome(**outcome, failures=failures)
        return cls(
            **{
                **data,
                "state": JobState(data["state"]),
                "updated_at": datetime.fromisoformat(data["updated_at"]),
                # jobs recorded before these fields existed: the last update stands in
                "started_at": datetime.fromisoformat(data.get("started_at") or data["updated_at"]),
                "started_by": data.get("started_by", ""),
                "outcome": outcome,
            }
        )


def init_app(app: Flask) -> None:
    """The import task and the minute's check for stalled jobs on the application's queue (both
    run with the application's context, in the consumer)."""
    huey = task_queue.of(app)

    def run_task(job_id: str, attempt: int) -> None:
        with app.app_context():
            run(job_id, attempt)

    def resume_task() -> None:
        with app.app_context():
            resume_stalled()

    app.extensions[_TASK] = huey.task(name="import")(run_task)
    huey.periodic_task(crontab(minute="*"), name="reprise-des-imports")(resume_task)


def stale_after() -> timedelta:
    """How long a running job's state may stay still before it is taken as interrupted: every
    step (one creation, one invitation, at most 100 people in one call) takes seconds at most."""
    return timedelta(seconds=current_app.config["IMPORT_STALE_SECONDS"])


def checked_plan(gateway: KeycloakGateway, groupement: str, data: bytes, name: str) -> DryRun:
    """The file checked and planned against what Keycloak holds now (nothing written)."""
    checked: Checked = check(read_table(data, name))
    existing = gateway.import_state(
        groupement, {row.email for row in checked.rows}, {row.siren for row in checked.rows}
    )
    return dry_run(checked, existing)


# --- uploads waiting for confirmation -------------------------------------------------------


def keep_upload(data: bytes) -> str:
    """Keep an uploaded file until it is confirmed; returns its unguessable token."""
    token = secrets.token_urlsafe(24)
    task_queue.queue().put(f"{_PREFIX}depot:{token}", {"data": data, "at": datetime.now(UTC)})
    return token


def take_upload(token: str) -> bytes | None:
    """The kept file, removed in the same step: a confirmation uses it once."""
    kept = task_queue.queue().get(f"{_PREFIX}depot:{token}")
    return kept["data"] if kept else None


def discard_upload(token: str) -> None:
    task_queue.queue().delete(f"{_PREFIX}depot:{token}")


# --- jobs ------------------------------------------------------------------------------------


def save(job: Job) -> None:
    job.updated_at = datetime.now(UTC)
    task_queue.queue().put(f"{_PREFIX}tache:{job.id}", job.to_json())


def _read(job_id: str) -> Job | None:
    if not _ID.fullmatch(job_id):
        return None
    text = task_queue.queue().get(f"{_PREFIX}tache:{job_id}", peek=True)
    if text is None:
        return None
    try:
        return Job.from_json(text)
    except (ValueError, KeyError, TypeError):
        # a record this version cannot read (damaged, or from a future one): not a page crash
        _log.warning("Unreadable import job %s", job_id, exc_info=True)
        return None


def load(job_id: str) -> Job | None:
    """The job with this id, or None. A running job gone still is resumed on the way."""
    job = _read(job_id)
    if job is not None and job.running and datetime.now(UTC) - job.updated_at > stale_after():
        _resume(job)
        job = _read(job_id)
    return job


def start(
    groupement: str, file_name: str, data: bytes, redirect_uri: str, change: Change, steps: int
) -> tuple[Job, bool]:
    """Record the job (``steps``: its plan's, as the confirmation checked it) and enqueue it:
    (the job, True). If an import of the groupement is running: (that one, False), nothing
    recorded (the caller refuses)."""
    huey = task_queue.queue()
    job_id = secrets.token_urlsafe(24)
    while not huey.put_if_empty(f"{_PREFIX}en-cours:{groupement}", job_id):
        ongoing = running(groupement)
        if ongoing is not None:
            return ongoing, False
    _purge()
    job = Job(job_id, groupement, file_name, steps, started_by=change.by, started_at=change.at)
    huey.put(f"{_PREFIX}ordre:{job_id}", {"data": data, "uri": redirect_uri, "change": change})
    save(job)
    current_app.extensions[_TASK](job_id, 1)
    return _read(job_id) or job, True


def running(groupement: str) -> Job | None:
    """The groupement's import still running, if any: a second one is refused meanwhile (both
    would read what exists before the other wrote it, and report against a stale state). A
    lock left by a job that has ended is released here."""
    key = f"{_PREFIX}en-cours:{groupement}"
    holder = task_queue.queue().get(key, peek=True)
    if holder is None:
        return None
    job = load(holder)
    if job is not None and job.running:
        return job
    task_queue.queue().delete(key)
    return None


def recent(groupement: str, limit: int = 10) -> list[Job]:
    """The groupement's latest jobs, newest first: the upload page lists them, so that a job
    stays within reach once its page is closed."""
    found = [job for job in _all_jobs() if job.groupement == groupement]
    return sorted(found, key=lambda job: job.started_at, reverse=True)[:limit]


def resume_stalled() -> None:
    """Resume every running job gone still (the consumers call it every minute)."""
    for job in _all_jobs():
        load(job.id)


def _all_jobs() -> list[Job]:
    keys = [
        k for k in task_queue.queue().storage.result_items() if k.startswith(f"{_PREFIX}tache:")
    ]
    return [job for key in keys if (job := _read(key.rsplit(":", 1)[1])) is not None]


def _resume(job: Job) -> None:
    """Enqueue the job's next attempt, once whoever notices it first (an atomic claim)."""
    huey = task_queue.queue()
    attempt = job.attempt + 1
    if not huey.put_if_empty(f"{_PREFIX}reprise:{job.id}:{attempt}", 1):
        return
    job.attempt = attempt
    if attempt > MAX_ATTEMPTS:
        _finish(job, JobState.FAILED, FAILED)
        return
    _log.warning("Import job %s of %s resumed (attempt %d)", job.id, job.groupement, attempt)
    save(job)
    current_app.extensions[_TASK](job.id, attempt)


def run(job_id: str, attempt: int) -> None:
    """The task: plan the file against what Keycloak holds now, then apply the plan."""
    job = _read(job_id)
    order = task_queue.queue().get(f"{_PREFIX}ordre:{job_id}", peek=True)
    if job is None or order is None or not job.running or job.attempt != attempt:
        return  # a duplicate delivery, or an attempt already superseded
    job.runner = f"{socket.gethostname()}:{os.getpid()}"
    save(job)
    try:
        # The application's gateway: its token is reused, its writes mark the pages' cache, and
        # outside a GET request it never reads from that cache.
        gateway = get_gateway()
        planned = checked_plan(gateway, job.groupement, order["data"], job.file_name)
        if planned.plan is None:  # the file no longer fits what Keycloak holds
            _finish(job, JobState.FAILED, FAILED)
            return
        job.total = job.done + import_steps(planned.plan)
        save(job)

        def progress(steps: int) -> None:
            current = _read(job_id)
            if current is None or current.attempt != attempt:
                raise Superseded
            job.done += steps
            save(job)

        job.outcome = gateway.apply_import(
            planned.plan, order["uri"], order["change"], progress=progress
        )
        _finish(job, JobState.DONE)
    except Superseded:
        _log.warning("Import job %s: attempt %d superseded, stopped", job_id, attempt)
    except Exception:
        # Whatever stopped it (Keycloak down, a refused write), the page must say so in
        # French rather than show "en cours" forever; the details go to the log.
        current_app.logger.exception("Import job %s of %s failed", job_id, job.groupement)
        _finish(job, JobState.FAILED, FAILED)


def _finish(job: Job, state: JobState, message: str = "") -> None:
    job.state, job.message = state, message
    save(job)
    huey = task_queue.queue()
    huey.delete(f"{_PREFIX}ordre:{job.id}")
    if huey.get(f"{_PREFIX}en-cours:{job.groupement}", peek=True) == job.id:
        huey.delete(f"{_PREFIX}en-cours:{job.groupement}")


def _purge() -> None:
    """Remove jobs and uploads older than :data:`KEEP_FOR` (their reports and files name
    people)."""
    huey = task_queue.queue()
    limit = datetime.now(UTC) - KEEP_FOR
    for key in list(huey.storage.result_items()):
        if key.startswith(f"{_PREFIX}depot:"):
            kept = huey.get(key, peek=True)
            if kept and kept["at"] < limit:
                huey.delete(key)
        elif key.startswith(f"{_PREFIX}tache:"):
            job = _read(key.rsplit(":", 1)[1])
            if job is None or (not job.running and job.updated_at < limit):
                huey.delete(key)
