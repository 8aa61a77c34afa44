"""Support's queue of collection-contact requests: reading, filtering, accepting, refusing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core.dates import date_paris
from portal.core.domain import RequestStatus
from portal.web import fields
from portal.web.support import forms as support_forms
from tests.helpers.admin_api import AdminApi, without_revision
from tests.helpers.admin_api_json import (
    GROUPEMENT,
    SCOPE_A,
    SCOPE_B,
    SIREN_A,
    SIREN_B,
    group_json,
    request_json,
    user_json,
)
from tests.helpers.pages import Element, assert_accessible, flashes, get_page, html
from tests.helpers.personas import SUPPORT_USER
from tests.helpers.settings import ADMIN_GROUPS_URL, ADMIN_USERS_URL, GROUP_WRITES_URL

Post = Callable[..., TestResponse]
NINA = user_json(
    "d0000000-0000-4000-8000-00000000000d",
    "nina.proposee@demoville.fr",
    "Nina",
    "Proposée",
    technique=[SCOPE_A],
    telephoneMobile=["+33612345678"],
    demandeCollecteSur=[SCOPE_A],
    demandeCollecteEnAttente=["oui"],
    demandesCollecte=[request_json("r-nina", 20)],
)
LEO = user_json(
    "l0000000-0000-4000-8000-00000000000l",
    "leo.syndicat@syndicat-demoville.fr",
    "Léo",
    "Syndicat",
    telephoneFixe=["+33299000003"],
    demandeCollecteSur=[SCOPE_B],
    demandeCollecteEnAttente=["oui"],
    demandesCollecte=[
        request_json("r-leo-ancienne", 2, SCOPE_B, status=RequestStatus.REFUSED, reason="Doublon"),
        request_json("r-leo", 25, SCOPE_B),
    ],
)
NINA_ID = NINA["id"]
ACCEPT, REFUSE = (f"/support/demandes/{NINA_ID}/r-nina/{verb}" for verb in ("accepter", "refuser"))
NINA_URL = f"{ADMIN_USERS_URL}/{NINA_ID}"
GROUP_A = f"{ADMIN_GROUPS_URL}/g-{SIREN_A}"


def queue(api: AdminApi, *people: dict[str, Any]) -> None:
    """The pending requests of ``people``, and the adherents they are about."""
    api.pending(list(people))
    scopes = {scope for person in people for scope in person["attributes"]["demandeCollecteSur"]}
    for siren in sorted({scope.partition("/")[0] for scope in scopes}):
        api.adherent(siren)


def stored_requests(api: AdminApi, person_id: str) -> list[dict[str, Any]]:
    return [json.loads(value) for value in api.people[person_id]["attributes"]["demandesCollecte"]]


# --- reading and filtering --------------------------------------------------------------------


def test_the_queue_newest_first_with_everything_support_needs(
    client: FlaskClient, support: AdminApi
) -> None:
    queue(support, NINA, LEO)
    page = get_page(client, "/support/")
    ids = [row.attrs["data-demande"] for row in page.iter() if "data-demande" in row.attrs]
    assert ids == ["r-leo", "r-nina"]  # the refused one is not pending

    nina = page.find("tr", data_demande="r-nina")
    cells = [cell.text() for cell in nina.children if isinstance(cell, Element)]
    assert cells[:6] == [
        "Nina Proposée nina.proposee@demoville.fr Mobile : 06 12 34 56 78",
        "SIREN 213500010 Commune de Démoville",
        GROUPEMENT,
        "1",
        "marie.dupont@demoville.fr",
        "20/11/2026 à 10:30 (heure de Paris)",
    ]
    accept = nina.find("form", class_="accepter")
    assert (accept.attrs["method"], accept.attrs["action"]) == ("post", ACCEPT)
    assert accept.find("input", name="csrf_token").attrs["value"]
    assert accept.find("button").text() == "Accepter la demande pour Nina Proposée"
    refuse = nina.find("form", class_="refuser")
    assert (refuse.attrs["method"], refuse.attrs["action"]) == ("post", REFUSE)
    motif = refuse.find("textarea", name="motif")
    assert motif.attrs["id"] == "motif-r-nina"
    assert refuse.find("label", for_="motif-r-nina").text() == "Motif du refus"
    assert refuse.find("button").text().startswith("Refuser")
    assert "Syndicat des eaux de Démoville" in page.find("tr", data_demande="r-leo").text()
    assert len(page.by_id("demandes").find("tbody").find_all("tr")) == 2


def test_empty_queue(client: FlaskClient, support: AdminApi) -> None:
    support.pending([])
    page = get_page(client, "/support/")
    assert page.by_id("aucune-demande").text() == "Aucune demande en attente : tout est traité."
    assert not page.find_all("table")


@pytest.mark.parametrize(
    ("query", "read", "shown"),
    [
        (f"siren={SIREN_A}", [SIREN_A], ["r-nina"]),
        (f"siren={SIREN_B}&lot=1", [SIREN_B], ["r-leo"]),
        ("lot=2", [], []),
        (f"groupement={GROUPEMENT}", [SIREN_A, SIREN_B], ["r-leo", "r-nina"]),
        ("groupement=AUTRE", [SIREN_A, SIREN_B], []),
        ("siren=&lot=&groupement=", [SIREN_A, SIREN_B], ["r-leo", "r-nina"]),
    ],
)
def test_filters(
    client: FlaskClient, support: AdminApi, query: str, read: list[str], shown: list[str]
) -> None:
    """Only the adherents of the requests left by the SIREN and lot filters are read."""
    support.pending([NINA, LEO])
    for siren in read:
        support.adherent(siren)
    page = get_page(client, f"/support/?{query}")
    ids = [e.attrs["data-demande"] for e in page.iter() if "data-demande" in e.attrs]
    assert ids == shown
    if not shown:
        assert page.by_id("aucune-demande").text() == "Aucune demande en attente pour ce filtre."
    form = page.find("form", role="search")
    assert form.attrs["method"] == "get"
    assert not form.find_all("input", name="csrf_token")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siren", "213500011", fields.SIREN_INVALID),
        ("siren", "12345", fields.SIREN_INVALID),
        ("lot", "lot 1", fields.LOT_INVALID),
        ("groupement", "x" * 101, support_forms.GROUPEMENT_TOO_LONG),
    ],
)
def test_a_bad_filter_is_shown_next_to_its_field(
    client: FlaskClient, support: AdminApi, field: str, value: str, message: str
) -> None:
    page = get_page(client, f"/support/?{field}={value}")  # and the queue is not read
    assert page.by_id(f"{field}-erreur").text() == message
    assert page.by_id(field).attrs["aria-invalid"] == "true"
    assert "Corrigez le filtre" in page.by_id("demandes").text()


# --- accepting --------------------------------------------------------------------------------


def accept_mocks(api: AdminApi, person: dict[str, Any], **group_principals: str) -> None:
    """What accepting reads and writes, for a person whose space is not active yet."""
    api.person(person)
    api.accept_update(person["id"])
    api.adherent(SIREN_A, group_json(SIREN_A, **group_principals))
    api.accept_join(person["id"], SIREN_A)
    api.credentials(person["id"])


def invitation_mocks(api: AdminApi, person_id: str, status: int = 204) -> None:
    api.realm()
    api.accept_invitation(person_id, status)


def test_accept_grants_makes_principal_and_invites(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    accept_mocks(support, NINA)
    support.group(group_json(SIREN_A))
    invitation_mocks(support, NINA_ID)

    response = post(ACCEPT)

    assert response.status_code == 302 and response.location == "/support/"
    assert support.writes() == [
        f"PUT {NINA_URL}",
        f"PUT {NINA_URL}/groups/g-{SIREN_A}",
        f"PUT {GROUP_WRITES_URL}/g-{SIREN_A}",
        f"PUT {NINA_URL}",
        f"PUT {NINA_URL}/execute-actions-email?client_id=collecte-portail&lifespan=604800"
        "&redirect_uri=http%3A%2F%2Flocalhost%2Fconnexion",
    ]
    [sent_actions] = [
        json.loads(str(call.request.body))
        for call in support.kc.calls
        if "execute-actions-email" in str(call.request.url)
    ]
    assert sent_actions == ["UPDATE_PASSWORD", "TERMS_AND_CONDITIONS", "VERIFY_EMAIL"]
    attributes = support.people[NINA_ID]["attributes"]
    assert attributes["collecte"] == [SCOPE_A]
    assert attributes.get("demandeCollecteEnAttente", []) == []
    [accepted] = stored_requests(support, NINA_ID)
    assert (accepted["statut"], accepted["traitePar"]) == ("acceptee", SUPPORT_USER["email"])
    change = json.loads(attributes["derniereModification"][0])
    assert (change["par"], change["quoi"]) == (
        SUPPORT_USER["email"],
        "demande acceptée : interlocuteur de collecte 213500010/1",
    )
    assert support.groups[f"g-{SIREN_A}"]["attributes"]["principal.1"] == [NINA_ID]

    expires = datetime.fromtimestamp(int(attributes["invitationExpireLe"][0]), UTC)
    assert flashes(client) == [
        (
            "info",
            "Demande acceptée : nina.proposee@demoville.fr est interlocuteur de collecte pour "
            f"213500010/1. Invitation envoyée, valable jusqu'au {date_paris(expires)}. "
            "Il devient l'interlocuteur principal de ce SIREN et de ce lot.",
        )
    ]


def test_accept_for_someone_already_active_under_an_existing_principal(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.person(NINA)
    support.accept_update(NINA_ID)
    support.adherent(SIREN_A, group_json(SIREN_A, lot_1="p-principal"))
    support.accept_join(NINA_ID, SIREN_A)
    support.credentials(NINA_ID, password_created=1795881002000)

    post(ACCEPT)

    assert support.writes() == [f"PUT {NINA_URL}", f"PUT {NINA_URL}/groups/g-{SIREN_A}"]
    assert flashes(client) == [
        (
            "info",
            "Demande acceptée : nina.proposee@demoville.fr est interlocuteur de collecte pour "
            "213500010/1. Son espace Client est déjà activé : aucune invitation nécessaire.",
        )
    ]


def test_when_the_invitation_cannot_be_sent_nothing_is_left(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    accept_mocks(support, NINA)
    support.group(group_json(SIREN_A))
    invitation_mocks(support, NINA_ID, status=500)

    response = post(ACCEPT)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert html(response).by_id("contenu").find_all("p")[0].text() == (
        "L'invitation n'a pas pu être envoyée : la messagerie est momentanément indisponible. "
        "Rien n'a été modifié ; réessayez plus tard."
    )
    assert without_revision(support.people[NINA_ID]) == NINA["attributes"]
    assert "principal.1" not in support.groups[f"g-{SIREN_A}"]["attributes"]
    assert flashes(client) == []


def test_accepting_a_request_that_is_no_longer_there_is_not_found(
    support: AdminApi, post: Post
) -> None:
    support.person(NINA)
    response = post(f"/support/demandes/{NINA_ID}/r-autre/accepter")
    assert response.status_code == 404
    assert support.writes() == []


def test_accepting_for_a_person_who_no_longer_exists_is_not_found(
    support: AdminApi, post: Post
) -> None:
    support.unknown_person(NINA_ID)
    assert post(ACCEPT).status_code == 404
    assert support.writes() == []


# --- refusing ---------------------------------------------------------------------------------


def test_refuse_with_a_reason(client: FlaskClient, support: AdminApi, post: Post) -> None:
    support.person(NINA)
    support.accept_update(NINA_ID)

    response = post(REFUSE, {"motif": "  Personne inconnue de l’adhérent  "})

    assert response.status_code == 302 and response.location == "/support/"
    assert support.writes() == [f"PUT {NINA_URL}"]
    [refused] = stored_requests(support, NINA_ID)
    assert (refused["statut"], refused["motif"]) == ("refusee", "Personne inconnue de l’adhérent")
    attributes = support.people[NINA_ID]["attributes"]
    assert "collecte" not in attributes or attributes["collecte"] == []
    assert attributes.get("demandeCollecteEnAttente", []) == []
    assert flashes(client) == [("info", "Demande refusée.")]


@pytest.mark.parametrize(
    "motif", ["", "   ", "ab", "x" * 501], ids=["vide", "blanc", "court", "long"]
)
def test_a_refusal_needs_a_reason_and_writes_nothing_without_one(
    support: AdminApi, post: Post, motif: str
) -> None:
    queue(support, NINA, LEO)

    response = post(REFUSE, {"motif": motif})

    assert response.status_code == 422
    assert support.writes() == []
    page = html(response)
    assert_accessible(page)
    assert page.find("title").text().startswith("Erreur : ")
    row = page.find("tr", data_demande="r-nina")
    error = row.by_id("motif-r-nina-erreur")
    assert error.text() == "Indiquez le motif du refus (3 à 500 caractères)."
    textarea = row.find("textarea", name="motif")
    assert "motif-r-nina-erreur" in textarea.attrs["aria-describedby"].split()
    assert textarea.attrs["aria-invalid"] == "true"
    summary = page.find("div", class_="resume-erreurs")
    assert summary.find("a").attrs["href"] == "#motif-r-nina"
    other = page.find("tr", data_demande="r-leo").find("textarea", name="motif")
    assert "aria-invalid" not in other.attrs and other.text() == ""


def test_refusing_a_request_that_is_no_longer_pending_is_not_found(
    support: AdminApi, post: Post
) -> None:
    decided = {
        **NINA,
        "attributes": {
            **NINA["attributes"],
            "demandesCollecte": [request_json("r-nina", 20, status=RequestStatus.ACCEPTED)],
        },
    }
    support.person(decided)
    response = post(REFUSE, {"motif": "Doublon"})
    assert response.status_code == 404
    assert support.writes() == []
