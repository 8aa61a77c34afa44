"""Shared fixtures for the portal's unit tests.

Every test runs inside a ``responses`` mock (``kc``): no request leaves the
process, and every mocked Keycloak call must actually happen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import responses
from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf

from portal import create_app

KEYCLOAK_URL = "http://keycloak.test"
ISSUER = f"{KEYCLOAK_URL}/realms/collecte"
DISCOVERY_URL = f"{ISSUER}/.well-known/openid-configuration"
OIDC_BASE = f"{ISSUER}/protocol/openid-connect"
AUTHORIZATION_ENDPOINT = f"{OIDC_BASE}/auth"
TOKEN_ENDPOINT = f"{OIDC_BASE}/token"
JWKS_URI = f"{OIDC_BASE}/certs"
END_SESSION_ENDPOINT = f"{OIDC_BASE}/logout"
ADMIN_USERS_URL = f"{KEYCLOAK_URL}/admin/realms/collecte/users"

DISCOVERY: dict[str, Any] = {
    "issuer": ISSUER,
    "authorization_endpoint": AUTHORIZATION_ENDPOINT,
    "token_endpoint": TOKEN_ENDPOINT,
    "userinfo_endpoint": f"{OIDC_BASE}/userinfo",
    "end_session_endpoint": END_SESSION_ENDPOINT,
    "jwks_uri": JWKS_URI,
    "response_types_supported": ["code"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "code_challenge_methods_supported": ["plain", "S256"],
}

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "OIDC_CLIENT_SECRET": "test-oidc-client-secret",
    "ADMIN_CLIENT_SECRET": "test-admin-client-secret",
    "KEYCLOAK_URL": KEYCLOAK_URL,
}


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
def make_app() -> Callable[..., Flask]:
    """Build an app from the test configuration plus overrides."""

    def factory(**overrides: Any) -> Flask:
        return create_app({**TEST_CONFIG, **overrides})

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def discovery(kc: responses.RequestsMock) -> dict[str, Any]:
    """Serve Keycloak's discovery document (fetched once per app)."""
    kc.get(DISCOVERY_URL, json=DISCOVERY)
    return DISCOVERY


def session_user(**overrides: Any) -> dict[str, Any]:
    user: dict[str, Any] = {
        "sub": "7f1c2a9e-0000-4000-8000-000000000001",
        "email": "camille.martin@example.fr",
        "given_name": "Camille",
        "family_name": "Martin",
        "expires_at": int(time.time()) + 300,
    }
    user.update(overrides)
    return user


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
