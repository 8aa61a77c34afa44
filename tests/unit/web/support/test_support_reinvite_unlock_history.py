"""Support acts from the diagnosis page — sends an invitation again, unlocks an account
(nothing written on a tampered form, an outage or a person who no longer exists) — and reads
the history of changes of a person or a SIREN, whose author is whoever Keycloak says made
the call."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core.dates import date_paris
from portal.web import fields
from portal.web.support import forms as support_forms
from tests.helpers.admin_api import AdminApi, without_revision
from tests.helpers.admin_api_json import (
    MASTER_REALM_ID,
    PORTAL_ACCOUNT_ID,
    REALM_ID,
    SCOPE_A,
    SIREN_A,
    user_json,
)
from tests.helpers.pages import Element, flashes, get_page, html
from tests.helpers.personas import MEMBER, SUPPORT_USER
from tests.helpers.settings import ADMIN_REALM_URL, ADMIN_USERS_URL

from ._diagnosis_support import INVITED, INVITED_ID, LOGGED_IN, NOW, PASSWORD_SET

Post = Callable[..., TestResponse]


# --- re-inviting and unlocking ----------------------------------------------------------------

REINVITE = f"/support/personnes/{INVITED_ID}/reinviter"
UNLOCK = f"/support/personnes/{MEMBER['id']}/deverrouiller"


def test_reinvite(client: FlaskClient, support: AdminApi, post: Post) -> None:
    support.person(INVITED)
    support.realm(lifespan=3 * 24 * 3600)
    support.accept_update(INVITED_ID)
    support.accept_invitation(INVITED_ID)

    response = post(REINVITE, {"email": INVITED["email"]})

    assert response.status_code == 302
    assert response.location == "/support/diagnostic?email=ines.invitee@demoville.fr"
    url = f"{ADMIN_USERS_URL}/{INVITED_ID}"
    assert support.writes() == [
        f"PUT {url}",
        f"PUT {url}/execute-actions-email?client_id=collecte-portail&lifespan=259200"
        "&redirect_uri=http%3A%2F%2Flocalhost%2Fconnexion",
    ]
    attributes = support.people[INVITED_ID]["attributes"]
    sent, expires = (
        int(attributes[name][0]) for name in ("invitationEnvoyeeLe", "invitationExpireLe")
    )
    assert expires - sent == 3 * 24 * 3600 and sent >= NOW
    assert json.loads(attributes["derniereModification"][0])["quoi"] == "invitation renvoyée"
    until = date_paris(datetime.fromtimestamp(expires, UTC))
    assert flashes(client) == [
        (
            "info",
            f"Nouvelle invitation envoyée, valable jusqu'au {until} ; "
            "les liens précédents ne fonctionnent plus.",
        )
    ]


def test_reinvite_when_mail_is_down_leaves_nothing(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.person(INVITED)
    support.realm()
    support.accept_update(INVITED_ID)
    support.accept_invitation(INVITED_ID, status=500)

    response = post(REINVITE, {"email": INVITED["email"]})

    assert response.status_code == 503
    assert "L'invitation n'a pas pu être envoyée" in html(response).by_id("contenu").text()
    assert without_revision(support.people[INVITED_ID]) == INVITED["attributes"]
    assert flashes(client) == []


@pytest.mark.parametrize("url", [REINVITE, UNLOCK])
@pytest.mark.parametrize("email", ["", "pas-une-adresse"])
def test_a_tampered_form_is_refused_and_writes_nothing(
    support: AdminApi, post: Post, url: str, email: str
) -> None:
    assert post(url, {"email": email}).status_code == 400
    assert support.writes() == []


def test_unlock(client: FlaskClient, support: AdminApi, post: Post) -> None:
    support.person(MEMBER)
    support.accept_unlock(MEMBER["id"])

    response = post(UNLOCK, {"email": MEMBER["email"]})

    assert response.location == "/support/diagnostic?email=marie.dupont@demoville.fr"
    assert support.writes() == [
        f"DELETE {ADMIN_REALM_URL}/attack-detection/brute-force/users/{MEMBER['id']}"
    ]
    assert flashes(client) == [("info", "Compte déverrouillé.")]


@pytest.mark.parametrize("url", [REINVITE, UNLOCK])
def test_acting_on_a_person_who_no_longer_exists_is_not_found(
    support: AdminApi, post: Post, url: str
) -> None:
    support.unknown_person(url.split("/")[3])
    response = post(url, {"email": "x@demoville.fr"})
    assert response.status_code == 404
    assert support.writes() == []


# --- history ----------------------------------------------------------------------------------


def admin_event(
    at: int,
    operation: str,
    by_user: str = PORTAL_ACCOUNT_ID,
    change: dict[str, str] | None = None,
    realm_id: str = REALM_ID,
) -> dict[str, Any]:
    """An admin event as Keycloak records it: ``authDetails`` names the caller (realm, client,
    user of the token); the representation is what the caller sent."""
    representation = (
        json.dumps({"attributes": {"derniereModification": [json.dumps(change)]}})
        if change
        else None
    )
    return {
        "time": at,
        "realmId": REALM_ID,
        "operationType": operation,
        "resourceType": "USER",
        "resourcePath": f"users/{MEMBER['id']}",
        "authDetails": {"realmId": realm_id, "clientId": "c-1", "userId": by_user},
        "representation": representation,
    }


REFUSED = {
    "par": "sam.support@collecte.fr",
    "le": "2026-11-28T15:50:02+00:00",
    "quoi": "demande refusée : Doublon",
}
MEMBER_EVENTS = [
    admin_event(LOGGED_IN, "UPDATE", change=REFUSED),
    admin_event(PASSWORD_SET, "ACTION", by_user=SUPPORT_USER["id"]),
]


def history_rows(page: Element) -> list[list[str]]:
    table = page.by_id("historique")
    return [[c.text() for c in row.find_all("td")] for row in table.find("tbody").find_all("tr")]


def test_history_of_a_person(client: FlaskClient, support: AdminApi) -> None:
    support.email_search(MEMBER["email"], [MEMBER])
    support.portal_account()
    support.admin_events(MEMBER["id"], MEMBER_EVENTS)
    support.person(MEMBER)
    support.person(SUPPORT_USER)  # who acted, when the portal did not make the call

    page = get_page(client, f"/support/historique?email={MEMBER['email']}")

    assert history_rows(page) == [
        [
            "28/11/2026 à 16:50 (heure de Paris)",
            "sam.support@collecte.fr",
            "demande refusée : Doublon",
            "marie.dupont@demoville.fr",
        ],
        [
            "18/11/2026 à 12:06 (heure de Paris)",
            "sam.support@collecte.fr",
            "action",
            "marie.dupont@demoville.fr",
        ],
    ]
    headers = [th.text() for th in page.by_id("historique").find("thead").find_all("th")]
    assert headers == ["Date", "Par", "Modification", "Personne concernée"]


COORDINATOR = user_json(
    "c0000000-0000-4000-8000-00000000000c", "claire.coord@grp-demo.fr", "Claire", "Coord"
)


def test_the_author_is_whoever_keycloak_says_called_never_the_field_they_wrote(
    client: FlaskClient, support: AdminApi
) -> None:
    """A coordinator (or an administrator) who writes `derniereModification` naming support is
    named himself: only the portal's own calls are read from that field."""
    forged = {**REFUSED, "quoi": "fait par le support"}
    events = [
        admin_event(LOGGED_IN, "UPDATE", by_user=COORDINATOR["id"], change=forged),
        admin_event(
            LOGGED_IN - 1000, "UPDATE", by_user="b-1", change=forged, realm_id=MASTER_REALM_ID
        ),
        admin_event(LOGGED_IN - 2000, "ACTION", change=None),
    ]
    events[2]["resourcePath"] += "/execute-actions-email"
    support.email_search(MEMBER["email"], [MEMBER])
    support.portal_account()
    support.admin_events(MEMBER["id"], events)
    support.person(MEMBER)
    support.person(COORDINATOR)

    page = get_page(client, f"/support/historique?email={MEMBER['email']}")

    assert [row[1:3] for row in history_rows(page)] == [
        ["claire.coord@grp-demo.fr", "modification"],
        ["administrateur de la plateforme (compte b-1)", "modification"],
        ["portail (compte de service)", "envoi d’un e-mail d’actions"],
    ]
    assert "sam.support@collecte.fr" not in page.by_id("historique").text()


def test_the_portal_account_is_read_once_per_gateway(
    client: FlaskClient, support: AdminApi
) -> None:
    support.email_search(MEMBER["email"], [MEMBER])
    support.portal_account()
    support.admin_events(MEMBER["id"], MEMBER_EVENTS[:1])
    support.person(MEMBER)
    for _ in range(2):
        get_page(client, f"/support/historique?email={MEMBER['email']}")
    realm_reads = [c for c in support.kc.calls if c.request.url == ADMIN_REALM_URL]
    assert len(realm_reads) == 1


def test_history_of_a_siren(client: FlaskClient, support: AdminApi) -> None:
    support.adherent(SIREN_A)
    support.scope_searches(SCOPE_A, collecte=[MEMBER], technique=[MEMBER])
    support.scope_searches(f"{SIREN_A}/2")
    support.portal_account()
    support.admin_events(MEMBER["id"], MEMBER_EVENTS[:1])
    support.person(MEMBER)

    page = get_page(client, f"/support/historique?siren={SIREN_A}")

    [row] = page.by_id("historique").find("tbody").find_all("tr")
    assert "demande refusée : Doublon" in row.text()
    assert page.find("h2", id="titre-historique").text() == f"Modifications du SIREN {SIREN_A}"


def test_no_history(client: FlaskClient, support: AdminApi) -> None:
    support.email_search("personne@demoville.fr", [])
    page = get_page(client, "/support/historique?email=personne@demoville.fr")
    assert page.by_id("aucune-modification").text() == "Aucune modification n’est enregistrée."
    assert not page.find_all(id="historique")


@pytest.mark.parametrize(
    ("query", "error_id", "message"),
    [
        (f"email={MEMBER['email']}&siren={SIREN_A}", None, support_forms.HISTORY_ONE_CRITERION),
        ("siren=123", "siren-erreur", fields.SIREN_INVALID),
        ("email=pas-une-adresse", "email-erreur", fields.EMAIL_INVALID),
    ],
)
def test_bad_history_criteria_read_nothing(
    client: FlaskClient, support: AdminApi, query: str, error_id: str | None, message: str
) -> None:
    page = get_page(client, f"/support/historique?{query}")
    shown = page.by_id(error_id) if error_id else page.find("p", class_="erreur-formulaire")
    assert shown.text() == message
    assert not page.find_all(id="historique")
