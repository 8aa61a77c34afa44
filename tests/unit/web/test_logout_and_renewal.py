"""RP-initiated logout (/deconnexion: POST only, CSRF token, Keycloak's end-session
endpoint), and the renewal of an expired access token while the Keycloak session lives
(signed out once it has ended)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import responses
from flask.testing import FlaskClient

from tests.helpers.personas import session_user
from tests.helpers.settings import END_SESSION_ENDPOINT, TOKEN_ENDPOINT

from ._auth_support import query, text

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
