"""Keycloak down, slow or failing: a French 503 page, never a stack trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses
from flask import Flask
from flask.testing import FlaskClient

from portal.web.gateway import get_gateway
from tests.helpers.settings import DISCOVERY_URL, END_SESSION_ENDPOINT, TOKEN_ENDPOINT


def assert_unavailable_page(response: Any) -> None:
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Service momentanément indisponible" in body
    assert '<html lang="fr">' in body
    assert "Traceback" not in body
    assert "keycloak.test" not in body
    assert response.headers["Retry-After"] == "60"
    assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectionError("refused"), requests.ConnectTimeout(), requests.ReadTimeout()],
    ids=["connection-refused", "connect-timeout", "read-timeout"],
)
def test_sign_in_when_keycloak_is_unreachable(
    client: FlaskClient, kc: responses.RequestsMock, failure: Exception
) -> None:
    kc.get(DISCOVERY_URL, body=failure)
    assert_unavailable_page(client.get("/connexion"))


def test_sign_in_when_keycloak_answers_5xx(client: FlaskClient, kc: responses.RequestsMock) -> None:
    kc.get(DISCOVERY_URL, status=503, body="Service Unavailable")
    assert_unavailable_page(client.get("/connexion"))


def test_misconfigured_realm_is_an_internal_error_not_an_outage(
    make_app: Callable[..., Flask], kc: responses.RequestsMock
) -> None:
    kc.get(DISCOVERY_URL, status=404)
    response = make_app(PROPAGATE_EXCEPTIONS=False).test_client().get("/connexion")
    assert response.status_code == 500
    assert "Erreur interne" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "failure",
    [{"body": requests.ConnectionError("reset")}, {"status": 503, "body": "<html>503</html>"}],
    ids=["reset", "503"],
)
def test_callback_when_token_endpoint_fails(
    client: FlaskClient,
    kc: responses.RequestsMock,
    discovery: dict[str, Any],
    failure: dict[str, Any],
) -> None:
    location = client.get("/connexion").location
    state = location.split("state=", 1)[1].split("&", 1)[0]
    kc.post(TOKEN_ENDPOINT, **failure)
    assert_unavailable_page(
        client.get("/auth/callback", query_string={"code": "c", "state": state})
    )
    with client.session_transaction() as sess:
        assert "user" not in sess


def test_logout_when_keycloak_is_unreachable_still_clears_the_session(
    client: FlaskClient,
    kc: responses.RequestsMock,
    sign_in: Callable[..., None],
    csrf_token: Callable[[], str],
) -> None:
    sign_in()
    kc.get(DISCOVERY_URL, body=requests.ConnectionError("refused"))
    response = client.post("/deconnexion", data={"csrf_token": csrf_token()})
    assert_unavailable_page(response)
    assert END_SESSION_ENDPOINT not in response.get_data(as_text=True)
    with client.session_transaction() as sess:
        assert "user" not in sess


def test_admin_api_unreachable_in_a_view(
    make_app: Callable[..., Flask], kc: responses.RequestsMock
) -> None:
    app = make_app()

    @app.get("/recherche")
    def recherche() -> str:
        person = get_gateway().find_person_by_email("camille.martin@example.fr")
        return person.email if person else "inconnu"

    kc.post(TOKEN_ENDPOINT, body=requests.ConnectionError("refused"))
    assert_unavailable_page(app.test_client().get("/recherche"))
