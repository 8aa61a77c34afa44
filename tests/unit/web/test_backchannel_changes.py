"""Keycloak's change notifications (``ChangeNotifier``): only a token signed by the realm, for
the portal's Admin API client, carrying the changes event, makes the portal read again."""

from __future__ import annotations

import time
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from portal.web.backchannel import CHANGES_EVENT
from portal.web.gateway import changes
from tests.helpers.settings import ISSUER, JWKS_URI

from .test_backchannel import logout_token

CHANGES_URL = "/auth/backchannel-changes"
ADMIN_CLIENT = "collecte-portail-admin"


@pytest.fixture(scope="module")
def realm_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "cle-du-realm", "use": "sig"})


@pytest.fixture
def jwks(kc: responses.RequestsMock, discovery: dict[str, Any], realm_key: RSAKey) -> None:
    kc.get(JWKS_URI, json={"keys": [realm_key.as_dict(private=False)]})


def changes_token(
    key: RSAKey | OctKey, overrides: dict[str, Any] | None = None, alg: str = "RS256"
) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": ADMIN_CLIENT,
        "iat": int(time.time()),
        "jti": "changement-1",
        "typ": "changes+jwt",
        "events": {CHANGES_EVENT: {}},
    }
    claims.update(overrides or {})
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def generation(app: Flask) -> str:
    with app.app_context():
        return changes().current()


def test_a_valid_changes_token_makes_the_portal_read_again(
    app: Flask, client: FlaskClient, jwks: None, realm_key: RSAKey
) -> None:
    before = generation(app)

    answer = client.post(CHANGES_URL, data={"changes_token": changes_token(realm_key)})

    assert answer.status_code == 200
    assert generation(app) != before


@pytest.mark.parametrize(
    "make_token",
    [
        lambda key: changes_token(RSAKey.generate_key(2048, parameters={"kid": key.kid})),
        lambda key: changes_token(key, {"aud": "collecte-portail"}),
        lambda key: changes_token(key, {"iss": "http://evil.example/realms/collecte"}),
        lambda key: changes_token(key, {"events": {}}),
        lambda key: changes_token(key, {"iat": int(time.time()) - 3600}),
        lambda key: changes_token(OctKey.import_key(b"0" * 32, {"kid": key.kid}), alg="HS256"),
        # A logout token is not a change, even signed by the realm.
        lambda key: logout_token(key, {"aud": ADMIN_CLIENT}),
        lambda key: "pas.un.jeton",
        lambda key: "",
    ],
    ids=[
        "bad-signature",
        "wrong-aud",
        "wrong-iss",
        "no-event",
        "too-old",
        "hmac",
        "logout-token",
        "garbage",
        "missing",
    ],
)
def test_an_invalid_changes_token_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, jwks: None, realm_key: RSAKey, make_token: Any
) -> None:
    before = generation(app)

    answer = client.post(CHANGES_URL, data={"changes_token": make_token(realm_key)})

    assert answer.status_code == 400
    assert generation(app) == before


def test_a_changes_token_ends_no_session(
    client: FlaskClient, jwks: None, realm_key: RSAKey
) -> None:
    answer = client.post(
        "/auth/backchannel-logout", data={"logout_token": changes_token(realm_key)}
    )
    assert answer.status_code == 400
