"""Confirmed bulk imports run in the background: one thread per import, its state in a JSON file.

Applying a file of 1,000 lines takes about 45 s from the portal (one creation per person, one
invitation e-mail per collection contact, ~100 ms each), beyond gunicorn's 30 s worker timeout:
the confirmation therefore only starts a job (:func:`start`) and the browser follows it on a
status page that reads the job's file (:func:`load`).

The job's file ``<id>.json`` sits in the folder of the pending uploads (``collecte-imports`` in
the temporary folder, mode 0700), so every gunicorn worker of the host reads it whichever one
runs the thread. It holds only the job's state: progress, and at the end the outcome report the
page shows (counters and the lines that failed); the plan stays in the thread's memory. The id
is an unguessable token.

One import per groupement at a time (:func:`running`): a second confirmation is refused in
French while the first runs.

Limits, deliberately accepted to keep this a thread rather than a queue (Celery, RQ):

- **one host**: the status page must be served by the host that runs the job (the file is local);
  several portal hosts would need sticky sessions or shared storage;
- **a restart interrupts a job** (the thread is a daemon: it dies with its worker). Its file then
  stops moving and, after :data:`STALE_AFTER`, the page shows it as failed. Re-importing the same
  file resumes it: the import is idempotent (what exists is skipped, only the rest is written).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from portal.core.domain import Change
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.bulk import Kind, Outcome, Plan, ReportLine, import_steps
from portal.web.gateway import changes

#: A running job whose file has not changed for this long is taken as interrupted: every step
#: (one creation, one invitation, at most 100 people in one call) takes seconds at most.
STALE_AFTER = timedelta(minutes=5)
#: Jobs' files and abandoned uploads are removed after this long (when the next job starts).
KEEP_FOR = timedelta(days=7)
FAILED = (
    "L’import s’est interrompu avant la fin : le service de connexion n’a pas répondu ou a "
    "refusé une écriture. Ce qui a déjà été enregistré est conservé. L’import est idempotent : "
    "relancez-le avec le même fichier, seul ce qui manque sera écrit."
)
_ID = re.compile(r"[A-Za-z0-9_-]{32}")
_log = logging.getLogger(__name__)
_threads: dict[str, threading.Thread] = {}


class JobState(StrEnum):
    RUNNING = "en cours"
    DONE = "terminé"
    FAILED = "échec"


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
                # files written before these fields existed: the last update stands in
                "started_at": datetime.fromisoformat(data.get("started_at") or data["updated_at"]),
                "started_by": data.get("started_by", ""),
                "outcome": outcome,
            }
        )


def folder() -> Path:
    """The folder of pending uploads and jobs, readable by this account only."""
    path = Path(tempfile.gettempdir()) / "collecte-imports"
    path.mkdir(mode=0o700, exist_ok=True)
    # The temporary folder is shared: refuse a folder someone else made or opened up.
    status = path.stat()
    if status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise PermissionError(f"{path} must belong to this account with mode 0700")
    return path


def _path(job_id: str) -> Path:
    return folder() / f"{job_id}.json"


def save(job: Job) -> None:
    """Write the job's file at once (a reader sees the old state or the new one, never half)."""
    job.updated_at = datetime.now(UTC)
    directory = folder()
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=directory, suffix=".tmp", delete=False
    ) as handle:
        handle.write(job.to_json())
    os.replace(handle.name, directory / f"{job.id}.json")


def load(job_id: str) -> Job | None:
    """The job with this id, or None. A running job whose file went still is an interrupted one
    (its worker restarted): shown as failed."""
    if not _ID.fullmatch(job_id):
        return None
    try:
        job = Job.from_json(_path(job_id).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        # a file this version cannot read (damaged, or from a future one): not a page crash
        _log.warning("Unreadable import job file %s", job_id, exc_info=True)
        return None
    if job.running and datetime.now(UTC) - job.updated_at > STALE_AFTER:
        job.state, job.message = JobState.FAILED, FAILED
    return job


def start(groupement: str, file_name: str, plan: Plan, redirect_uri: str, change: Change) -> str:
    """Start applying ``plan`` in a thread; returns the job's id. ``change`` carries the author
    (the signed-in staff member), ``redirect_uri`` the invitations' link: both need the request,
    which the thread does not have."""
    _purge()
    job = Job(
        secrets.token_urlsafe(24),
        groupement,
        file_name,
        import_steps(plan),
        started_by=change.by,
        started_at=change.at,
    )
    save(job)
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=_run,
        args=(app, job, plan, redirect_uri, change),
        name=f"import-{groupement}",
        daemon=True,
    )
    _threads[job.id] = thread
    thread.start()
    return job.id


def recent(groupement: str, limit: int = 10) -> list[Job]:
    """The groupement's latest jobs, newest first: the upload page lists them, so that a job
    stays within reach once its page is closed."""
    found = []
    for path in folder().glob("*.json"):
        job = load(path.stem)
        if job is not None and job.groupement == groupement:
            found.append(job)
    return sorted(found, key=lambda job: job.started_at, reverse=True)[:limit]


def running(groupement: str) -> Job | None:
    """The groupement's import still running, if any: a second one is refused meanwhile (both
    would read what exists before the other wrote it, and report against a stale state)."""
    return next((job for job in recent(groupement, limit=50) if job.running), None)


def wait(job_id: str, timeout: float | None = None) -> None:
    """Wait for a job started by this process to end (tests; a clean shutdown)."""
    thread = _threads.get(job_id)
    if thread is not None:
        thread.join(timeout)


def _run(app: Flask, job: Job, plan: Plan, redirect_uri: str, change: Change) -> None:
    with app.app_context():
        try:
            # A gateway of its own: the application's one (token, HTTP session) serves the
            # worker's requests meanwhile and is not meant to be shared between threads. It marks
            # its own writes for the pages' cache, as the application's one does.
            gateway = KeycloakGateway.from_config(current_app.config, on_write=changes().bump)

            def progress(steps: int) -> None:
                job.done += steps
                save(job)

            job.outcome = gateway.apply_import(plan, redirect_uri, change, progress=progress)
            job.state = JobState.DONE
        except Exception:
            # Whatever stopped it (Keycloak down, a refused write), the page must say so in
            # French rather than show "en cours" forever; the details go to the log.
            current_app.logger.exception("Import job %s of %s failed", job.id, job.groupement)
            job.state, job.message = JobState.FAILED, FAILED
        finally:
            save(job)
            _threads.pop(job.id, None)


def _purge() -> None:
    """Remove what has not changed for :data:`KEEP_FOR`: jobs' files (their reports name people)
    and uploads never confirmed (member lists)."""
    limit = (datetime.now(UTC) - KEEP_FOR).timestamp()
    for path in folder().iterdir():
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile by the other worker
            if path.stat().st_mtime < limit:
                path.unlink()
