"""The public « demande sans compte » form: the FAQ's fields with French messages next to them,
the same answer whatever the SIREN or address (the request only enqueues: nothing is read from
Keycloak), CSRF, and the abuse limits per address and per client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core.abuse_limits import EXTENSION_KEY, AbuseLimits
from portal.core.domain import ContactDetails, Scope
from portal.web.main.views import RECORDED
from tests.helpers.pages import html

URL = "/aide/demande-sans-compte"
Post = Callable[..., TestResponse]
FILLED = {
    "nom": "Durand",
    "prenom": "Léa",
    "email": " lea.durand@commune.fr ",
    "telephone_fixe": "",
    "telephone_mobile": "06 12 34 56 78",
    "siren": "213 500 010",
    "lot": "2",
}


@pytest.fixture
def enqueued(app: Flask) -> list[tuple[Any, ...]]:
    """The requests the form enqueued, instead of recording them (no Keycloak here)."""
    calls: list[tuple[Any, ...]] = []
    app.extensions["collecte.tasks.sans-compte"] = lambda *arguments: calls.append(arguments)
    return calls


def test_a_filled_form_gets_the_same_answer_and_its_request_enqueued(
    client: FlaskClient, post: Post, enqueued: list[tuple[Any, ...]]
) -> None:
    response = post(URL, FILLED)
    assert response.status_code == 303 and response.location == URL
    assert enqueued == [
        (
            ContactDetails("Durand", "Léa", "lea.durand@commune.fr", None, "+33612345678"),
            Scope("213500010", "2"),
            "http://localhost/support/",
        )
    ]
    assert html(client.get(URL)).find("div", class_="messages").text() == RECORDED


def test_the_help_page_and_the_home_page_lead_to_the_form(client: FlaskClient) -> None:
    for page in ("/aide/connexion", "/"):
        links = html(client.get(page)).find_all("a", href=URL)
        assert [link.text() for link in links] == ["Demander un accès sans compte"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siren", "123456789", "SIREN"),
        ("lot", "", "lot"),
        ("email", "pas-une-adresse", "adresse e-mail"),
        ("nom", "", "nom"),
        ("telephone_mobile", "", "numéro"),
    ],
)
def test_bad_input_gets_a_french_message_next_to_its_field_and_nothing_is_enqueued(
    post: Post, enqueued: list[tuple[Any, ...]], field: str, value: str, message: str
) -> None:
    response = post(URL, {**FILLED, field: value})
    assert response.status_code == 422
    # Both phones empty: the message stands next to the first one.
    shown = "telephone_fixe" if field == "telephone_mobile" else field
    assert message.lower() in html(response).by_id(f"{shown}-erreur").text().lower()
    assert enqueued == []


def test_the_form_needs_csrf(client: FlaskClient, enqueued: list[tuple[Any, ...]]) -> None:
    assert client.post(URL, data=FILLED).status_code == 400
    assert enqueued == []


def test_a_third_request_for_one_address_in_a_day_is_refused(
    post: Post, enqueued: list[tuple[Any, ...]]
) -> None:
    for lot in ("1", "2"):
        assert post(URL, {**FILLED, "lot": lot}).status_code == 303
    refused = post(URL, {**FILLED, "email": "LEA.durand@commune.fr"})
    assert refused.status_code == 422
    assert (
        html(refused)
        .by_id("email-erreur")
        .text()
        .startswith(
            "Trop de demandes sans compte (2 par jour au plus) : aucune n’a été enregistrée."
        )
    )
    assert len(enqueued) == 2


def test_one_client_walking_through_sirens_and_addresses_is_stopped(
    app: Flask, post: Post, enqueued: list[tuple[Any, ...]]
) -> None:
    settings = {**app.config, "RATE_LIMIT_ACCOUNTLESS_PER_CLIENT": "2 per hour"}
    app.extensions[EXTENSION_KEY] = AbuseLimits.from_config(settings)
    answers = [post(URL, {**FILLED, "email": f"p{n}@commune.fr"}) for n in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 422]
    assert "Trop de demandes sans compte" in html(answers[2]).by_id("email-erreur").text()
    assert len(enqueued) == 2
