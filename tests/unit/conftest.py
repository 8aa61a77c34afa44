"""Fixtures of the portal's unit tests (the helpers they use live in tests/helpers/).

Every test runs inside a ``responses`` mock (``kc``): no request leaves the
process, and every mocked Keycloak call must actually happen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from email.message import EmailMessage
from typing import Any

import pytest
import responses
from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from werkzeug.test import TestResponse

from portal.web.app import create_app
from portal.web.auth import USER_KEY, SessionUser
from portal.web.gateway import changes
from tests.helpers.admin_api import AdminApi
from tests.helpers.mail import FakeSMTP
from tests.helpers.personas import MEMBER, SUPPORT_USER, session_user
from tests.helpers.settings import DISCOVERY, DISCOVERY_URL, TEST_CONFIG


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own COLLECTE_* variables must not leak into the tests."""
    import os

    for name in list(os.environ):
        if name.startswith("COLLECTE_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def kc() -> Iterator[responses.RequestsMock]:
    """Mocked HTTP: unregistered requests fail with ConnectionError, all registered must fire."""
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def make_app(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Flask]:
    """Build an app from the test configuration plus overrides (sessions kept in a folder of
    the test's own)."""
    sessions = tmp_path_factory.mktemp("sessions")

    def factory(**overrides: Any) -> Flask:
        return create_app({**TEST_CONFIG, "SESSION_FILE_DIR": str(sessions), **overrides})

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def realm_changed(app: Flask) -> Callable[[], None]:
    """What Keycloak's change notification does (``ChangeNotifier`` → ``/auth/backchannel-
    changes``): the pages read Keycloak again. A test whose fake Keycloak changes calls it."""

    def notify() -> None:
        with app.app_context():
            changes().bump()

    return notify


@pytest.fixture
def discovery(kc: responses.RequestsMock) -> dict[str, Any]:
    """Serve Keycloak's discovery document (fetched once per app)."""
    kc.get(DISCOVERY_URL, json=DISCOVERY)
    return DISCOVERY


@pytest.fixture
def sign_in(client: FlaskClient) -> Callable[..., None]:
    """Put a signed-in user in the client's session, as the OIDC callback would."""

    def do_sign_in(**overrides: Any) -> None:
        with client.session_transaction() as sess:
            sess["user"] = session_user(**overrides)
            sess["id_token"] = "header.payload.signature"

    return do_sign_in


@pytest.fixture
def csrf_token(app: Flask, client: FlaskClient) -> Callable[[], str]:
    """Return a CSRF token valid for the client's session (as a rendered form would)."""

    def get_token() -> str:
        with client.session_transaction() as sess:
            current: Mapping[str, Any] = dict(sess)
        with app.test_request_context():
            session.update(current)
            token = generate_csrf()
            raw = session["csrf_token"]
        with client.session_transaction() as sess:
            sess["csrf_token"] = raw
        return str(token)

    return get_token


@pytest.fixture
def admin_api(kc: responses.RequestsMock) -> Iterator[AdminApi]:
    api = AdminApi(kc)
    yield api
    api.forget_unused()


@pytest.fixture
def sign_in_as(client: FlaskClient) -> Callable[[Mapping[str, Any]], None]:
    """Sign a person in by writing the session as the OIDC callback does (no Keycloak call)."""

    def do_sign_in(person: Mapping[str, Any]) -> None:
        user = SessionUser(
            sub=person["id"],
            email=person["email"],
            given_name=person["firstName"],
            family_name=person["lastName"],
            expires_at=int(time.time()) + 300,
            signed_in_at=int(time.time()),
        )
        with client.session_transaction() as sess:
            sess[USER_KEY] = user.to_session()

    return do_sign_in


@pytest.fixture
def signed_in(
    admin_api: AdminApi, sign_in_as: Callable[[Mapping[str, Any]], None]
) -> Callable[[dict[str, Any]], AdminApi]:
    """Sign a person in; each request then reads them from Keycloak (one service-account
    token per application)."""

    def do_sign_in(person: dict[str, Any]) -> AdminApi:
        admin_api.token()
        admin_api.person(person)
        sign_in_as(person)
        return admin_api

    return do_sign_in


@pytest.fixture
def member(signed_in: Callable[[dict[str, Any]], AdminApi]) -> AdminApi:
    """MEMBER, collection contact of SCOPE_A, is signed in."""
    return signed_in(MEMBER)


@pytest.fixture
def support(admin_api: AdminApi, sign_in_as: Callable[[Mapping[str, Any]], None]) -> AdminApi:
    """SUPPORT_USER, who holds the realm role `support`, is signed in: each support page asks
    Keycloak for the role (and reads nothing else about them)."""
    admin_api.token()
    admin_api.roles(SUPPORT_USER["id"], "support", "equipe-plateforme")
    sign_in_as(SUPPORT_USER)
    return admin_api


@pytest.fixture
def post(client: FlaskClient, csrf_token: Callable[[], str]) -> Callable[..., TestResponse]:
    """POST a form as the browser would, with a valid CSRF token."""

    def submit(url: str, data: Mapping[str, Any] | None = None) -> TestResponse:
        return client.post(url, data={**(data or {}), "csrf_token": csrf_token()})

    return submit


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmailMessage]]:
    messages: list[EmailMessage] = []
    monkeypatch.setattr(FakeSMTP, "outbox", messages, raising=False)
    monkeypatch.setattr("portal.core.notify.smtplib.SMTP", FakeSMTP)
    yield messages
