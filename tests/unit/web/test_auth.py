"""Sign-in (authorization code + PKCE): the "next" parameter, /connexion, and the callback
with its checks of the ID token and its failure page.

Sign-out and session renewal: test_logout_and_renewal.py. test_backchannel.py reuses this
module's ``id_token_for`` and ``start_sign_in``."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from portal.web import sessions
from portal.web.auth import is_safe_next
from tests.helpers.settings import AUTHORIZATION_ENDPOINT, ISSUER, JWKS_URI, TOKEN_ENDPOINT

from ._auth_support import query, text

CONDITIONS = (
    "deux conditions indispensables",
    "« interlocuteur de collecte »",
    "Conditions Générales d’Utilisation (CGU) acceptées",
)


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


def test_each_sign_in_attempt_has_its_own_unguessable_values(
    client: FlaskClient, discovery: dict[str, Any]
) -> None:
    attempts = [query(client.get("/connexion").location) for _ in range(3)]
    with client.session_transaction() as sess:
        (attempt,) = [value for key, value in sess.items() if key.startswith("_state_")]
    verifier = attempt["data"]["code_verifier"]
    for name in ("state", "nonce"):
        values = {params[name] for params in attempts}
        assert len(values) == 3
        assert all(len(value) >= 43 for value in values)  # 32 random bytes, base64url
    assert 43 <= len(verifier) <= 128  # RFC 7636, 4.1
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge.rstrip(b"=").decode() == attempts[-1]["code_challenge"]


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
