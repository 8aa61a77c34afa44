"""What the abuse-limit tests share (test_abuse_limits_requests.py,
test_abuse_limits_reinvites.py): a clock the test moves, and an app built with the limits a
test chooses (``@pytest.mark.parametrize("limits", [...])``).

Each test's app has its own ``memory://`` store (portal.create_app builds one per app).
The test modules take the fixtures by assignment (``clock = shared.clock``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

Post = Callable[..., TestResponse]
DAY = 24 * 3600

#: When each test's clock starts: 01/12/2026 at 10:15:30, Paris time.
START = datetime(2026, 12, 1, 9, 15, 30, tzinfo=UTC).timestamp()


class Clock:
    """Stands for the ``time`` module of the limits library's memory store: the windows move
    when the test says so, without sleeping."""

    def __init__(self) -> None:
        self.now = START

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moving = Clock()
    monkeypatch.setattr("limits.storage.memory.time", moving)
    return moving


@pytest.fixture
def limits() -> dict[str, Any]:
    """Overrides of the limits for one test (defaults unless a test changes them)."""
    return {}


@pytest.fixture
def app(make_app: Callable[..., Flask], limits: dict[str, Any]) -> Flask:
    return make_app(**limits)
