"""Sign-in (authorization code + PKCE), callback and RP-initiated logout."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.test import TestResponse

from portal.web import sessions
from portal.web.auth import is_safe_next
from tests.helpers.personas import session_user
from tests.helpers.settings import (
    AUTHORIZATION_ENDPOINT,
    END_SESSION_ENDPOINT,
    ISSUER,
    JWKS_URI,
    TOKEN_ENDPOINT,
)

CONDITIONS = (
    "deux conditions indispensables",
    "« interlocuteur de collecte »",
    "Conditions Générales d’Utilisation (CGU) acceptées",
)


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


# --- the "next" parameter ---------------------------------------------------


@pytest.mark.parametrize("target", ["/", "/x", "/espace?onglet=1", "/a/b#c"])
def test_next_accepts_local_paths(target: str) -> None:
    assert is_safe_next(target)


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "x",
        "https://evil.example",
        "http://evil.example/x",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/\n/evil.example",
    ],
)
def test_next_rejects_anything_but_a_local_path(target: str | None) -> None:
    assert not is_safe_next(target)


# --- /connexion -------------------------------------------------------------


def test_login_redirects_to_keycloak_with_pkce(
    client: FlaskClient, discovery: dict[str, Any]
) -> None:
    response = client.get("/connexion?next=/x")

    assert response.status_code == 302
    assert response.location.startswith(AUTHORIZATION_ENDPOINT + "?")
    params = query(response.location)
    assert params["response_type"] == "code"
    assert params["client_id"] == "collecte-portail"
    assert params["redirect_uri"] == "http://localhost/auth/callback"
    assert params["scope"] == "openid email profile"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url(SHA-256), no padding
    assert params["state"]
    assert params["nonce"]
    with client.session_transaction() as sess:
        assert sess["next"] == "/x"


def test_starting_over_keeps_only_the_latest_sign_in_attempt(
    client: FlaskClient, discovery: dict[str, Any]
) -> None:
    states = [query(client.get("/connexion").location)["state"] for _ in range(5)]
    with client.session_transaction() as sess:
        kept = [key for key in sess if key.startswith("_state_")]
    assert kept == [f"_state_keycloak_{states[-1]}"]


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example", "/\\evil.example"])
def test_login_ignores_unsafe_next(
    client: FlaskClient, discovery: dict[str, Any], target: str
) -> None:
    response = client.get("/connexion", query_string={"next": target})
    assert response.location.startswith(AUTHORIZATION_ENDPOINT)
    with client.session_transaction() as sess:
        assert "next" not in sess


def test_login_when_already_signed_in_goes_straight_to_next(
    client: FlaskClient, sign_in: Callable[..., None]
) -> None:
    sign_in()
    response = client.get("/connexion?next=/x")
    assert response.status_code == 302
    assert response.location == "/x"


# --- /auth/callback ---------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "cle-de-test", "use": "sig"})


def id_token_for(key: RSAKey, nonce: str, overrides: dict[str, Any] | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "collecte-portail",
        "azp": "collecte-portail",
        "sub": "7f1c2a9e-0000-4000-8000-000000000001",
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "email": "camille.martin@example.fr",
        "email_verified": True,
        "given_name": "Camille",
        "family_name": "Martin",
    }
    claims.update(overrides or {})
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def start_sign_in(client: FlaskClient, next_url: str = "/x") -> dict[str, str]:
    return query(client.get("/connexion", query_string={"next": next_url}).location)


def keycloak_answers(kc: responses.RequestsMock, id_token: str, signing_key: RSAKey) -> None:
    """The token endpoint answers the code with this ID token; the JWKS holds ``signing_key``."""
    kc.post(
        TOKEN_ENDPOINT,
        json={"access_token": "a", "token_type": "Bearer", "expires_in": 300, "id_token": id_token},
    )
    kc.get(JWKS_URI, json={"keys": [signing_key.as_dict(private=False)]})


def test_callback_signs_the_user_in(
    client: FlaskClient,
    kc: responses.RequestsMock,
    discovery: dict[str, Any],
    signing_key: RSAKey,
) -> None:
    authorization = start_sign_in(client)
    id_token = id_token_for(signing_key, authorization["nonce"])
    kc.post(
        TOKEN_ENDPOINT,
        json={
            "access_token": "jeton-d-acces",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        },
    )
    kc.get(JWKS_URI, json={"keys": [signing_key.as_dict(private=False)]})

    response = client.get(
        "/auth/callback", query_string={"code": "code-1", "state": authorization["state"]}
    )

    assert response.status_code == 302
    assert response.location == "/x"
    # PKCE: the token request carries the verifier matching the challenge.
    token_request = next(call.request for call in kc.calls if call.request.url == TOKEN_ENDPOINT)
    form = parse_qs(str(token_request.body))
    assert form["grant_type"] == ["authorization_code"]
    assert form["code"] == ["code-1"]
    verifier = form["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge.rstrip(b"=").decode() == authorization["code_challenge"]

    with client.session_transaction() as sess:
        assert sess["user"]["sub"] == "7f1c2a9e-0000-4000-8000-000000000001"
        assert sess["user"]["email"] == "camille.martin@example.fr"
        assert sess["user"]["expires_at"] > time.time()
        assert sess["id_token"] == id_token
        # Only what the portal needs: no access token, no leftover state or next.
        # ("_permanent" is Flask-Session's marker that the session has the configured lifetime,
        # "renewed_at" when its idle timeout was last renewed; the CSRF token of the first
        # page's forms is made with the new session.)
        assert set(sess.keys()) == {"user", "id_token", "_permanent", "renewed_at", "csrf_token"}

    assert "Connecté en tant que Camille Martin (camille.martin@example.fr)" in text(
        client.get("/")
    )


def test_the_first_page_after_sign_in_does_not_write_the_session_again(
    client: FlaskClient,
    kc: responses.RequestsMock,
    discovery: dict[str, Any],
    signing_key: RSAKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The callback stores everything the first page needs (its forms' CSRF token included):
    a sign-in writes its session once, not once more on the page it lands on."""
    authorization = start_sign_in(client)
    keycloak_answers(kc, id_token_for(signing_key, authorization["nonce"]), signing_key)
    client.get("/auth/callback", query_string={"code": "c", "state": authorization["state"]})
    with client.application.app_context():
        store = sessions.store()
    written: list[str] = []
    original = store.set

    def counting_set(key: str, *args: Any, **kwargs: Any) -> bool:
        written.append(key)
        return bool(original(key, *args, **kwargs))

    monkeypatch.setattr(store, "set", counting_set)

    page = text(client.get("/"))

    assert 'name="csrf_token"' in page  # the sign-out form
    assert written == []


@pytest.mark.parametrize(
    "claims",
    [
        {"nonce": "un-autre-nonce"},
        {"aud": "un-autre-client"},
        {"aud": ["un-autre-client", "encore-un-autre"], "azp": "un-autre-client"},
        {"iss": "http://evil.example/realms/collecte"},
        {"exp": int(time.time()) - 3600},
        {"sub": None},
    ],
    ids=["nonce", "audience", "audiences", "issuer", "expired", "no-subject"],
)
def test_callback_rejects_an_invalid_id_token(
    client: FlaskClient,
    kc: responses.RequestsMock,
    discovery: dict[str, Any],
    signing_key: RSAKey,
    claims: dict[str, Any],
) -> None:
    authorization = start_sign_in(client)
    keycloak_answers(kc, id_token_for(signing_key, authorization["nonce"], claims), signing_key)

    response = client.get(
        "/auth/callback", query_string={"code": "c", "state": authorization["state"]}
    )

    assert response.status_code == 400
    assert "La connexion n’a pas abouti" in text(response)
    with client.session_transaction() as sess:
        assert "user" not in sess


def test_callback_rejects_a_forged_signature(
    client: FlaskClient,
    kc: responses.RequestsMock,
    discovery: dict[str, Any],
    signing_key: RSAKey,
) -> None:
    authorization = start_sign_in(client)
    forger = RSAKey.generate_key(2048, parameters={"kid": signing_key.kid})
    keycloak_answers(kc, id_token_for(forger, authorization["nonce"]), signing_key)

    response = client.get(
        "/auth/callback", query_string={"code": "c", "state": authorization["state"]}
    )

    assert response.status_code == 400
    with client.session_transaction() as sess:
        assert "user" not in sess


def test_callback_access_denied_shows_french_failure_page(
    client: FlaskClient, discovery: dict[str, Any]
) -> None:
    response = client.get(
        "/auth/callback",
        query_string={"error": "access_denied", "error_description": "User denied", "state": "s"},
    )
    body = text(response)
    assert response.status_code == 400
    assert "La connexion n’a pas abouti" in body
    assert 'href="/connexion"' in body
    assert "Réessayer de se connecter" in body
    for condition in CONDITIONS:
        assert condition in body
    assert "Traceback" not in body
    assert "access_denied" not in body


def test_callback_with_unknown_state_is_refused(
    client: FlaskClient, discovery: dict[str, Any]
) -> None:
    # No sign-in was started from this browser: Authlib finds no state, nothing is fetched.
    response = client.get("/auth/callback", query_string={"code": "c", "state": "forged"})
    assert response.status_code == 400
    assert "La connexion n’a pas abouti" in text(response)


def test_failure_page_retry_keeps_a_safe_next(
    client: FlaskClient, discovery: dict[str, Any]
) -> None:
    start_sign_in(client, next_url="/espace")
    response = client.get("/auth/callback", query_string={"error": "access_denied"})
    assert 'href="/connexion?next=/espace"' in text(response)


# --- /deconnexion -----------------------------------------------------------


def test_logout_is_post_only(client: FlaskClient, sign_in: Callable[..., None]) -> None:
    sign_in()
    response = client.get("/deconnexion")
    assert response.status_code == 405
    with client.session_transaction() as sess:
        assert "user" in sess


def test_logout_requires_csrf_token(client: FlaskClient, sign_in: Callable[..., None]) -> None:
    sign_in()
    response = client.post("/deconnexion")
    assert response.status_code == 400
    assert "Le formulaire a expiré" in text(response)
    response = client.post("/deconnexion", data={"csrf_token": "faux"})
    assert response.status_code == 400
    with client.session_transaction() as sess:
        assert "user" in sess


def test_logout_with_the_home_page_form(
    client: FlaskClient, discovery: dict[str, Any], sign_in: Callable[..., None]
) -> None:
    sign_in()
    body = text(client.get("/"))
    token = body.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    response = client.post("/deconnexion", data={"csrf_token": token})

    assert response.status_code == 302
    assert response.location.startswith(END_SESSION_ENDPOINT + "?")
    params = query(response.location)
    assert params["id_token_hint"] == "header.payload.signature"
    assert params["post_logout_redirect_uri"] == "http://localhost/"
    assert params["client_id"] == "collecte-portail"
    with client.session_transaction() as sess:
        assert "user" not in sess
        assert "id_token" not in sess


def test_logout_when_signed_out_just_goes_home(
    client: FlaskClient, csrf_token: Callable[[], str]
) -> None:
    response = client.post("/deconnexion", data={"csrf_token": csrf_token()})
    assert response.status_code == 302
    assert response.location == "/"
    assert "Déconnexion effectuée." in text(client.get("/"))


# --- session renewal ------------------------------------------------------------


def sign_in_expired(client: FlaskClient) -> None:
    with client.session_transaction() as sess:
        sess["user"] = session_user(expires_at=int(time.time()) - 1)
        sess["id_token"] = "ancien.jeton.id"
        sess["refresh_token"] = "jeton-de-rafraichissement"


def test_expired_access_token_is_renewed_while_the_keycloak_session_lives(
    client: FlaskClient, kc: responses.RequestsMock, discovery: dict[str, Any]
) -> None:
    sign_in_expired(client)
    kc.post(
        TOKEN_ENDPOINT,
        json={
            "access_token": "nouveau",
            "token_type": "Bearer",
            "expires_in": 300,
            "refresh_token": "jeton-suivant",
        },
    )

    assert "Connecté en tant que Camille Martin" in text(client.get("/"))
    form = parse_qs(str(kc.calls[-1].request.body))
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["jeton-de-rafraichissement"]
    with client.session_transaction() as sess:
        assert sess["user"]["expires_at"] > time.time()
        assert sess["refresh_token"] == "jeton-suivant"
        assert sess["id_token"] == "ancien.jeton.id"


def test_ended_keycloak_session_signs_the_user_out(
    client: FlaskClient, kc: responses.RequestsMock, discovery: dict[str, Any]
) -> None:
    sign_in_expired(client)
    kc.post(
        TOKEN_ENDPOINT,
        status=400,
        json={"error": "invalid_grant", "error_description": "Session not active"},
    )

    assert "Connecté en tant que" not in text(client.get("/"))
    with client.session_transaction() as sess:
        assert not {"user", "id_token", "refresh_token"} & set(sess.keys())
