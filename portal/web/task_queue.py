"""The portal's task queue — bulk imports, the self-help answers, the « demandes sans
compte »: huey (https://huey.readthedocs.io), with durable storage.

- **One host** (the dev run, the production topology of the tests, where every portal runs on
  one machine): SQLite, a file (``TASKS_FILE``, by default ``collecte-taches.sqlite3`` in the
  sessions' folder).
- **Several hosts** (production containers): Redis (``TASKS_REDIS_URL``), shared by every host.
- **Unit tests** that do not follow a job: huey's immediate mode (``TASKS_IMMEDIATE``), in
  memory — the task runs inside the request that enqueues it.

A consumer runs the tasks, one per portal host beside gunicorn: ``python -m portal.worker``; a
portal served from a test's own process runs huey's consumer in its threads
(``TASKS_IN_PROCESS``, :func:`start_consumer_threads`).
The same store keeps the import jobs' state and the uploads waiting for confirmation
(:mod:`portal.web.imports.jobs`), so that any host serves any page. :func:`init_app` builds the
queue before the areas register their tasks on it; :func:`start_in_process` starts the
in-process consumer, if configured, once they have.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer

EXTENSION = "collecte.tasks"
NAME = "collecte"


def build(config: Mapping[str, Any]) -> Huey:
    """The queue these settings name (see the module's documentation)."""
    if config.get("TASKS_IMMEDIATE"):
        return MemoryHuey(NAME, immediate=True, results=False)
    if config.get("TASKS_REDIS_URL"):
        return RedisHuey(NAME, url=config["TASKS_REDIS_URL"], results=False)
    folder = config.get("SESSION_FILE_DIR") or tempfile.gettempdir()
    path = Path(config.get("TASKS_FILE") or Path(folder) / "collecte-taches.sqlite3")
    path.parent.mkdir(parents=True, exist_ok=True)
    # The consumer and every gunicorn worker open the file: SQLite's WAL lets them read while
    # one writes; a writer waits up to `timeout` seconds for another.
    return SqliteHuey(NAME, filename=str(path), results=False, timeout=10, fsync=True)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = build(app.config)


def of(app: Flask) -> Huey:
    """``app``'s queue (to register a task on it)."""
    return cast(Huey, app.extensions[EXTENSION])


def queue() -> Huey:
    """The current application's queue."""
    return of(current_app._get_current_object())  # type: ignore[attr-defined]


def start_in_process(app: Flask) -> None:
    """The consumer in this process's threads when ``TASKS_IN_PROCESS`` is set (a portal served
    from a test's or a benchmark's own process); call it once every task is registered."""
    huey = of(app)
    if app.config["TASKS_IN_PROCESS"] and not huey.immediate:
        start_consumer_threads(huey)


class _ConsumerInThreads(Consumer):  # type: ignore[misc]  # huey is untyped
    """huey's consumer started from a program that is not its own: no signal handlers."""

    def _set_signal_handlers(self) -> None:
        pass


def start_consumer_threads(huey: Huey, workers: int = 2) -> None:
    """Run huey's consumer (workers and scheduler) in daemon threads of this process, for as long
    as it lives: a portal served from a test's or benchmark's own process
    (``TASKS_IN_PROCESS``)."""
    consumer = _ConsumerInThreads(
        huey, workers=workers, periodic=True, initial_delay=0.02, max_delay=0.5
    )
    consumer.start()
