"""The public « Je ne parviens pas à me connecter » form: the same answer for any valid address,
only an enqueued answer (nothing read from Keycloak in the request), French field errors, and
the abuse limits per address and per client — the same refusal whatever the address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core.abuse_limits import EXTENSION_KEY, AbuseLimits
from portal.web.main.views import SENT
from tests.helpers.pages import html

URL = "/aide/connexion"
Post = Callable[..., TestResponse]


@pytest.fixture
def enqueued(app: Flask) -> list[tuple[Any, ...]]:
    """The answers the form enqueued, instead of running them (no Keycloak here)."""
    calls: list[tuple[Any, ...]] = []
    app.extensions["collecte.tasks.aide"] = lambda *arguments: calls.append(arguments)
    return calls


def field_error(response: TestResponse) -> str:
    return html(response).by_id("email-erreur").text()


def test_a_valid_address_gets_the_same_answer_and_its_diagnosis_enqueued(
    client: FlaskClient, post: Post, enqueued: list[tuple[Any, ...]]
) -> None:
    response = post(URL, {"email": "  marie@commune.fr "})
    assert response.status_code == 303
    assert response.location == f"{URL}#je-ne-parviens-pas"
    assert enqueued == [("marie@commune.fr", "http://localhost/connexion")]
    page = html(client.get(URL))
    assert page.find("div", class_="messages").text() == SENT


def test_an_invalid_address_gets_a_french_message_next_to_the_field(
    post: Post, enqueued: list[tuple[Any, ...]]
) -> None:
    response = post(URL, {"email": "pas-une-adresse"})
    assert response.status_code == 422
    assert "adresse e-mail" in field_error(response).lower()
    assert enqueued == []


def test_the_form_needs_csrf(client: FlaskClient, enqueued: list[tuple[Any, ...]]) -> None:
    assert client.post(URL, data={"email": "marie@commune.fr"}).status_code == 400
    assert enqueued == []


def test_a_fourth_request_for_one_address_in_an_hour_is_refused(
    post: Post, enqueued: list[tuple[Any, ...]]
) -> None:
    for _ in range(3):
        assert post(URL, {"email": "marie@commune.fr"}).status_code == 303
    refused = post(URL, {"email": "MARIE@commune.fr"})
    assert refused.status_code == 422
    assert field_error(refused).startswith(
        "Trop de demandes d’aide à la connexion (3 par heure au plus) : aucune n’a été enregistrée."
    )
    assert len(enqueued) == 3


def test_one_client_walking_through_addresses_is_stopped(
    app: Flask, post: Post, enqueued: list[tuple[Any, ...]]
) -> None:
    settings = {**app.config, "RATE_LIMIT_SELF_HELP_PER_CLIENT": "2 per hour"}
    app.extensions[EXTENSION_KEY] = AbuseLimits.from_config(settings)
    answers = [post(URL, {"email": f"p{n}@commune.fr"}) for n in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 422]
    assert "Trop de demandes d’aide à la connexion" in field_error(answers[2])
    assert len(enqueued) == 2
