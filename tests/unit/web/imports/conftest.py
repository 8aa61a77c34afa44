"""Fixtures of the import page's tests: the portal runs its import jobs through a real task
queue, consumed by a thread of the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers.tasks import consumer


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Flask]:
    """The portal with its task queue in the test's own SQLite file, its tasks run by a thread
    of the test (as a consumer would), and an application context for the tests' own reads."""
    app = make_app(TASKS_IMMEDIATE=False, TASKS_FILE=str(tmp_path / "taches.sqlite3"))
    with consumer(app), app.app_context():
        yield app
