"""The demo application (collecte_kc.demo_application) with Keycloak mocked: its page from a fake ID
token, its sign-out, and its back-channel logout endpoint checking the logout token."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from collecte_kc.applications import PERIMETERS_SCOPE
from collecte_kc.demo_application import (
    BACKCHANNEL_PATH,
    CALLBACK_PATH,
    COOKIE_NAME,
    DemoConfig,
    create_app,
    perimeters,
    scope_for,
)
from portal.web.backchannel import LOGOUT_EVENT
from tests.helpers.settings import (
    AUTHORIZATION_ENDPOINT,
    DISCOVERY,
    END_SESSION_ENDPOINT,
    ISSUER,
    JWKS_URI,
    KEYCLOAK_URL,
    TOKEN_ENDPOINT,
)

CLIENT_ID = "application-collecte-demo"
SUB = "7f1c2a9e-0000-4000-8000-0000000000d1"
SID = "session-keycloak-demo"
PERIMETRES = [
    {
        "siren": "213500010",
        "lot": "1",
        "raisonSociale": "Commune <b>de</b> Démoville",
        "principal": True,
    },
    {
        "siren": "213500010",
        "lot": "2",
        "raisonSociale": "Commune <b>de</b> Démoville",
        "principal": False,
    },
]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "cle-demo", "use": "sig"})


@pytest.fixture
def app() -> Flask:
    return create_app(
        DemoConfig(
            keycloak_url=KEYCLOAK_URL,
            client_secret="secret-demo",
            public_url="http://localhost",
            secret_key="cle-de-test",
        )
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _signed(key: RSAKey, claims: dict[str, Any]) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def id_token(key: RSAKey, nonce: str, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "sub": SUB,
        "sid": SID,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "email": "marie.dupont@demoville.fr",
        "given_name": "Marie",
        "family_name": "Dupont",
        "perimetres": PERIMETRES,
        "version_cgu": "2026-11",
    }
    claims.update(overrides)
    return _signed(key, {k: v for k, v in claims.items() if v is not None})


def logout_token(key: RSAKey, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": SUB,
        "sid": SID,
        "iat": now,
        "exp": now + 300,
        "jti": "jeton-demo",
        "events": {LOGOUT_EVENT: {}},
    }
    claims.update(overrides)
    return _signed(key, claims)


def sign_in(
    client: FlaskClient, kc: responses.RequestsMock, key: RSAKey, **claims: Any
) -> FlaskClient:
    kc.get(f"{ISSUER}/.well-known/openid-configuration", json=_discovery())
    started = client.get("/connexion")
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.location).query).items()}
    kc.post(
        TOKEN_ENDPOINT,
        json={
            "access_token": "a",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token(key, query["nonce"], **claims),
        },
    )
    kc.get(JWKS_URI, json={"keys": [key.as_dict(private=False)]})
    client.get(CALLBACK_PATH, query_string={"code": "c", "state": query["state"]})
    return client


def _discovery(
    offered: tuple[str, ...] = ("openid", "profile", "email", PERIMETERS_SCOPE),
) -> dict[str, Any]:
    return {**DISCOVERY, "scopes_supported": list(offered)}


def test_the_perimeters_scope_is_asked_only_when_the_realm_offers_it() -> None:
    assert scope_for(["openid", PERIMETERS_SCOPE]) == "openid profile email perimetres-collecte"
    assert scope_for(["openid", "profile"]) == "openid profile email"


def test_the_sign_in_asks_for_the_perimeters_with_pkce(
    client: FlaskClient, kc: responses.RequestsMock
) -> None:
    kc.get(f"{ISSUER}/.well-known/openid-configuration", json=_discovery())
    page = client.get("/").get_data(as_text=True)
    assert "Application de collecte (démonstration)" in page and 'id="se-connecter"' in page
    started = client.get("/connexion")
    assert started.location.startswith(AUTHORIZATION_ENDPOINT)
    query = parse_qs(urlsplit(started.location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"] == ["openid profile email perimetres-collecte"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://localhost/auth/callback"]
    assert COOKIE_NAME in (started.headers.get("Set-Cookie") or "")


def test_the_page_shows_the_person_the_perimeters_and_the_cgu_version(
    client: FlaskClient, kc: responses.RequestsMock, key: RSAKey
) -> None:
    page = sign_in(client, kc, key).get("/").get_data(as_text=True)
    assert "Connecté(e)" in page and "Marie" in page and "marie.dupont@demoville.fr" in page
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td>(.*?)</td>\s*<td>(\w+)</td>", page)
    escaped = "Commune &lt;b&gt;de&lt;/b&gt; Démoville"  # a claim is text, never markup
    assert rows == [("213500010", "1", escaped, "oui"), ("213500010", "2", escaped, "non")]
    assert "<strong>2026-11</strong>" in page
    assert "Se déconnecter" in page


def test_a_token_without_perimeters_or_with_none_says_so(
    app: Flask, kc: responses.RequestsMock, key: RSAKey
) -> None:
    page = sign_in(app.test_client(), kc, key, perimetres=None).get("/").get_data(as_text=True)
    assert 'id="sans-perimetres"' in page
    assert perimeters({"perimetres": []}) == []
    assert perimeters({"perimetres": "213500010/1"}) is None


def test_an_id_token_for_another_application_is_refused(
    client: FlaskClient, kc: responses.RequestsMock, key: RSAKey
) -> None:
    sign_in(client, kc, key, aud="collecte-portail")
    page = client.get("/").get_data(as_text=True)
    assert "Connecté(e)" not in page


def test_back_channel_logout_ends_the_session(
    client: FlaskClient, kc: responses.RequestsMock, key: RSAKey
) -> None:
    sign_in(client, kc, key)
    answer = client.post(BACKCHANNEL_PATH, data={"logout_token": logout_token(key)})
    assert answer.status_code == 200
    assert "Connecté(e)" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "collecte-portail"},  # for another client
        {"iss": "http://autre.test/realms/collecte"},
        {"events": {}},  # not a logout event
        {"nonce": "n"},  # an ID token, not a logout token
        {"iat": int(time.time()) - 3600},  # too old
        {"sid": "autre-session", "sub": "autre-personne"},  # someone else's session
    ],
)
def test_a_logout_token_that_does_not_hold_ends_nothing(
    client: FlaskClient, kc: responses.RequestsMock, key: RSAKey, overrides: dict[str, Any]
) -> None:
    sign_in(client, kc, key)
    answer = client.post(BACKCHANNEL_PATH, data={"logout_token": logout_token(key, **overrides)})
    assert answer.status_code in (200, 400)
    assert "Connecté(e)" in client.get("/").get_data(as_text=True)


def test_a_logout_token_signed_by_another_key_is_refused(
    client: FlaskClient, kc: responses.RequestsMock, key: RSAKey
) -> None:
    sign_in(client, kc, key)
    other = RSAKey.generate_key(2048, parameters={"kid": key.kid})
    answer = client.post(BACKCHANNEL_PATH, data={"logout_token": logout_token(other)})
    assert answer.status_code == 400
    assert "Connecté(e)" in client.get("/").get_data(as_text=True)


def test_sign_out_needs_the_form_token_then_ends_the_keycloak_session(
    client: FlaskClient, kc: responses.RequestsMock, key: RSAKey
) -> None:
    sign_in(client, kc, key)
    page = client.get("/").get_data(as_text=True)
    assert client.post("/deconnexion").status_code == 400  # no CSRF token: nothing happens
    token = CSRF.search(page)
    assert token is not None
    answer = client.post("/deconnexion", data={"csrf_token": token.group(1)})
    assert answer.location.startswith(END_SESSION_ENDPOINT)
    query = parse_qs(urlsplit(answer.location).query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/"]
    assert query["client_id"] == [CLIENT_ID] and query["id_token_hint"]
    assert "Connecté(e)" not in client.get("/").get_data(as_text=True)


def test_the_demo_data_registers_the_demo_application_with_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from collecte_kc import demo
    from collecte_kc.applications import Application
    from collecte_kc.demo_application import NAME

    seen: list[Application] = []
    monkeypatch.setattr(demo, "register", lambda admin, app: seen.append(app) or "enregistrée")
    assert demo.register_demo_application(object(), "http://localhost:5001/") == "enregistrée"
    assert seen == [
        Application(
            NAME,
            CLIENT_ID,
            ("http://localhost:5001/auth/callback",),
            ("http://localhost:5001/",),
            "http://localhost:5001/auth/backchannel-logout",
        )
    ]
