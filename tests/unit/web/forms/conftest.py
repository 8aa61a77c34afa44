"""Fixture of the form tests: a bare Flask app (CSRF off unless a test turns it on) in place
of the portal's app of tests/unit/conftest.py; enough to validate a form."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret-key", WTF_CSRF_ENABLED=False)
    return app
