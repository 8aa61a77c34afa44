"""Support adds collection contacts directly, finds adherents and works on any adherent's
technical and billing contacts with the member-space pages."""

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
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import (
    GROUPEMENT,
    SCOPE_A,
    SIREN_A,
    group_json,
    request_json,
    user_json,
)
from tests.helpers.pages import assert_field_error, flashes, get_page, html
from tests.helpers.personas import MEMBER, SUPPORT_USER, TECHNICIAN
from tests.helpers.settings import ADMIN_USERS_URL, GROUP_WRITES_URL

from ..espace.test_espace_writes import EMAIL_CASES, NO_PHONE, PERSON_CASES

Post = Callable[..., TestResponse]
NEW_ID = "n0000000-0000-4000-8000-00000000000n"
NEW_EMAIL = "lea.durand@demoville.fr"
ADD_URL = "/support/interlocuteurs/nouveau"
CONTACT = {
    "nom": "Durand",
    "prenom": "Léa",
    "email": NEW_EMAIL,
    "telephone_mobile": "06 12 34 56 78",
    "siren": SIREN_A,
    "lot": "1",
}
SCOPE_PAGE = f"/support/adherents/{SIREN_A}/1/"
NEW_URL = f"{ADMIN_USERS_URL}/{NEW_ID}"


# --- adding a collection contact directly -----------------------------------------------------


def test_the_form_explains_the_principal_and_can_come_pre_filled(
    client: FlaskClient, support: AdminApi
) -> None:
    page = get_page(client, f"{ADD_URL}?siren={SIREN_A}&lot=2&inconnu=x")
    form = page.find("form", class_="formulaire")
    names = [
        e.attrs["name"] for e in form.iter() if e.tag == "input" and e.attrs["type"] != "hidden"
    ]
    assert names == ["nom", "prenom", "email", "telephone_fixe", "telephone_mobile", "siren", "lot"]
    assert form.find("input", name="siren").attrs["value"] == SIREN_A
    assert form.find("input", name="lot").attrs["value"] == "2"
    assert form.attrs["action"] == ADD_URL
    rule = page.by_id("regle-principal").text()
    assert "le premier interlocuteur de collecte enregistré pour un SIREN et un lot" in rule
    assert "Personne ne peut changer l’interlocuteur principal ensuite" in rule


def new_person(api: AdminApi, invitation: int = 204) -> None:
    """Keycloak as the direct form finds it for NEW_EMAIL: unknown, on an adherent whose lot 1
    has no principal yet; ``invitation``: how Keycloak answers the invitation e-mail."""
    api.adherent(SIREN_A)
    api.email_search(NEW_EMAIL, [])
    api.accept_create(NEW_ID)
    api.accept_update(NEW_ID)
    api.accept_join(NEW_ID, SIREN_A)
    api.group(group_json(SIREN_A))
    api.credentials(NEW_ID)
    api.realm()
    api.accept_invitation(NEW_ID, invitation)


def test_a_new_person_becomes_collection_contact_principal_and_is_invited(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    new_person(support)

    response = post(ADD_URL, {**CONTACT, "siren": "213 500 010"})

    assert response.status_code == 302
    assert response.location == f"/support/diagnostic?email={NEW_EMAIL}"
    assert support.writes() == [
        f"POST {ADMIN_USERS_URL}",
        f"PUT {NEW_URL}",
        f"PUT {NEW_URL}/groups/g-{SIREN_A}",
        f"PUT {GROUP_WRITES_URL}/g-{SIREN_A}",
        f"PUT {NEW_URL}",
        f"PUT {NEW_URL}/execute-actions-email?client_id=collecte-portail&lifespan=604800"
        "&redirect_uri=http%3A%2F%2Flocalhost%2Fconnexion",
    ]
    [created] = support.sent("POST")
    assert (created["email"], created["firstName"], created["lastName"]) == (
        NEW_EMAIL,
        "Léa",
        "Durand",
    )
    assert created["groups"] == [f"/{GROUPEMENT}/{SIREN_A}"]
    attributes = support.people[NEW_ID]["attributes"]
    assert attributes["collecte"] == [SCOPE_A]
    assert attributes["telephoneMobile"] == ["+33612345678"]
    change = json.loads(attributes["derniereModification"][0])
    assert (change["par"], change["quoi"]) == (
        SUPPORT_USER["email"],
        "ajout interlocuteur de collecte 213500010/1",
    )
    assert support.groups[f"g-{SIREN_A}"]["attributes"]["principal.1"] == [NEW_ID]
    expires = datetime.fromtimestamp(int(attributes["invitationExpireLe"][0]), UTC)
    assert flashes(client) == [
        (
            "info",
            f"Interlocuteur de collecte ajouté : {NEW_EMAIL} est interlocuteur de collecte pour "
            f"213500010/1. Invitation envoyée, valable jusqu'au {date_paris(expires)}. "
            "Il devient l'interlocuteur principal de ce SIREN et de ce lot.",
        )
    ]


def test_when_the_invitation_cannot_be_sent_the_new_person_is_not_kept(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    new_person(support, invitation=500)
    support.accept_delete(NEW_ID)

    response = post(ADD_URL, CONTACT)

    assert response.status_code == 503
    assert "L'invitation n'a pas pu être envoyée" in html(response).by_id("contenu").text()
    assert NEW_ID not in support.people
    assert support.writes()[-1] == f"DELETE {NEW_URL}"
    assert "principal.1" not in support.groups[f"g-{SIREN_A}"]["attributes"]
    assert flashes(client) == []


def test_an_existing_active_person_gains_the_function_and_keeps_their_details(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.adherent(SIREN_A, group_json(SIREN_A, lot_1=MEMBER["id"]))
    support.email_search(TECHNICIAN["email"], [TECHNICIAN])
    support.person(TECHNICIAN)
    support.accept_update(TECHNICIAN["id"])
    support.accept_join(TECHNICIAN["id"], SIREN_A)
    support.credentials(TECHNICIAN["id"], password_created=1795881002000)

    response = post(ADD_URL, {**CONTACT, "email": TECHNICIAN["email"], "nom": "Autre"})

    assert response.location == f"/support/diagnostic?email={TECHNICIAN['email']}"
    person = support.people[TECHNICIAN["id"]]
    assert (person["lastName"], person["attributes"]["collecte"]) == ("Technicien", [SCOPE_A])
    assert person["attributes"]["technique"] == [SCOPE_A]
    assert flashes(client) == [
        (
            "info",
            "Interlocuteur de collecte ajouté : jean.technicien@demoville.fr est interlocuteur de "
            "collecte pour 213500010/1. Son espace Client est déjà activé : aucune invitation "
            "nécessaire.",
        )
    ]


def submit_bad(post: Post, api: AdminApi, changes: dict[str, Any]) -> TestResponse:
    response = post(ADD_URL, {**CONTACT, **changes})
    assert response.status_code == 422
    assert api.writes() == []
    return response


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        *PERSON_CASES,
        *EMAIL_CASES,
        ("siren", "", fields.SIREN_REQUIRED),
        ("siren", "213500011", fields.SIREN_INVALID),
        ("siren", "21350001", fields.SIREN_INVALID),
        ("siren", "21350001A", fields.SIREN_INVALID),
        ("lot", "", fields.LOT_REQUIRED),
        ("lot", "lot 1", fields.LOT_INVALID),
        ("lot", "-1", fields.LOT_INVALID),
        ("lot", "1" * 21, fields.LOT_INVALID),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_read_or_written(
    support: AdminApi, post: Post, field: str, value: str, message: str
) -> None:
    assert_field_error(submit_bad(post, support, {field: value}), field, message)


def test_at_least_one_phone(support: AdminApi, post: Post) -> None:
    page = html(submit_bad(post, support, NO_PHONE))
    assert page.by_id("telephone_fixe-erreur").text() == fields.PHONE_REQUIRED


def test_unknown_adherent(support: AdminApi, post: Post) -> None:
    support.no_adherent("552081317")
    response = submit_bad(post, support, {"siren": "552081317"})
    page = assert_field_error(response, "siren", "Aucun adhérent n'a ce SIREN.")
    assert page.find("input", name="email").attrs["value"] == NEW_EMAIL


def test_lot_not_in_the_contract(support: AdminApi, post: Post) -> None:
    support.adherent(SIREN_A)  # lots 1 and 2
    response = submit_bad(post, support, {"lot": "9"})
    assert_field_error(response, "lot", "Cet adhérent n'est pas concerné par ce lot.")


# --- finding an adherent ----------------------------------------------------------------------


def test_an_adherent_lists_its_lots(client: FlaskClient, support: AdminApi) -> None:
    support.adherent(SIREN_A)
    page = get_page(client, f"/support/adherents?siren={SIREN_A}")
    section = page.by_id("adherent")
    assert section.find("h2").text() == "Commune de Démoville"
    assert f"Groupement {GROUPEMENT}" in section.text()
    links = [
        (a.attrs["data-perimetre"], a.attrs["href"])
        for a in section.find_all("a")
        if "data-perimetre" in a.attrs
    ]
    assert links == [
        (SCOPE_A, f"/support/adherents/{SIREN_A}/1/"),
        (f"{SIREN_A}/2", f"/support/adherents/{SIREN_A}/2/"),
    ]
    assert page.by_id("lien-historique").attrs["href"] == f"/support/historique?siren={SIREN_A}"


@pytest.mark.parametrize(
    ("siren", "reads", "message"),
    [
        ("552081317", True, "Aucun adhérent n'a ce SIREN."),
        ("552081318", False, fields.SIREN_INVALID),
    ],
)
def test_no_adherent_for_this_siren(
    client: FlaskClient, support: AdminApi, siren: str, reads: bool, message: str
) -> None:
    if reads:
        support.no_adherent(siren)
    page = get_page(client, f"/support/adherents?siren={siren}")
    assert page.by_id("siren-erreur").text() == message
    assert page.by_id("siren").attrs["aria-invalid"] == "true"
    assert not page.find_all(id="adherent")


def test_empty_search_shows_the_form_only(client: FlaskClient, support: AdminApi) -> None:
    page = get_page(client, "/support/adherents?siren=")
    assert not page.find_all(class_="champ__erreur") and not page.find_all(id="adherent")


# --- any adherent's SIREN/lot page, for support -----------------------------------------------


def test_support_sees_a_scope_page_without_the_member_request_form(
    client: FlaskClient, support: AdminApi
) -> None:
    proposed = user_json(
        "d-1",
        "nina.proposee@demoville.fr",
        "Nina",
        "Proposée",
        demandeCollecteSur=[SCOPE_A],
        demandesCollecte=[request_json("r-attente", 20)],
    )
    support.adherent(SIREN_A, group_json(SIREN_A, lot_1=MEMBER["id"]))
    support.scope_contacts(
        SCOPE_A,
        collecte=[MEMBER],
        technique=[TECHNICIAN],
        facturation=[TECHNICIAN],
        demandeCollecteSur=[proposed],
    )
    page = get_page(client, SCOPE_PAGE)

    assert page.find("h1").text() == "SIREN 213500010 — Commune de Démoville — lot 1"
    assert "marie.dupont@demoville.fr" in page.by_id("principal").text()
    assert not page.find_all(id="demander-collecte")
    assert not page.find_all("a", class_="proposer")
    add = page.by_id("ajouter-collecte")
    assert add.attrs["href"] == f"/support/interlocuteurs/nouveau?siren={SIREN_A}&lot=1"
    assert page.by_id("ajouter-contact").attrs["href"] == f"{SCOPE_PAGE}contacts/nouveau"
    row = page.by_id("techniques").find("tr", data_personne=TECHNICIAN["id"])
    base = f"{SCOPE_PAGE}contacts/{TECHNICIAN['id']}"
    assert row.find("a", class_="modifier").attrs["href"] == f"{base}/modifier"
    assert row.find("form", class_="retirer").attrs["action"] == f"{base}/retirer"
    assert page.find("tr", data_demande="r-attente")
    assert page.by_id("lien-historique").attrs["href"] == f"/support/historique?siren={SIREN_A}"
    assert page.by_id("demandes-en-attente").attrs["href"] == f"/support/?siren={SIREN_A}&lot=1"
    crumbs = page.find("nav", aria_label="Fil d’Ariane").find_all("a")
    assert [a.attrs["href"] for a in crumbs] == [f"/support/adherents?siren={SIREN_A}", SCOPE_PAGE]
    assert page.find("nav", class_="nav-support")


def test_support_adds_a_technical_contact_to_any_adherent(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.adherent(SIREN_A)
    support.email_search(NEW_EMAIL, [])
    support.accept_create(NEW_ID)

    response = post(f"{SCOPE_PAGE}contacts/nouveau", {**CONTACT, "fonctions": "technique"})

    assert (response.status_code, response.location) == (302, SCOPE_PAGE)
    assert flashes(client) == [("info", "Contact enregistré.")]
    [created] = support.sent("POST")
    assert created["attributes"]["technique"] == [SCOPE_A]
    change = json.loads(created["attributes"]["derniereModification"][0])
    assert change["par"] == SUPPORT_USER["email"]


def test_support_edits_and_removes_a_contact(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.person(TECHNICIAN)
    support.accept_update(TECHNICIAN["id"])
    support.accept_leave(TECHNICIAN["id"], SIREN_A)
    base = f"{SCOPE_PAGE}contacts/{TECHNICIAN['id']}"

    page = get_page(client, f"{base}/modifier")
    assert page.find("input", name="nom").attrs["value"] == "Technicien"
    link = page.find("a", href=f"/support/interlocuteurs/nouveau?siren={SIREN_A}&lot=1")
    assert link.text() == "ajoutez un « interlocuteur de collecte »"
    cancel = page.find("p", class_="actions-formulaire").find("a")
    assert cancel.attrs["href"] == SCOPE_PAGE

    edited = post(f"{base}/modifier", {**CONTACT, "fonctions": "facturation"})
    assert edited.location == SCOPE_PAGE
    removed = post(f"{base}/retirer")
    assert removed.location == SCOPE_PAGE
    assert flashes(client) == [("info", "Contact modifié."), ("info", "Contact retiré.")]
    attributes = support.people[TECHNICIAN["id"]]["attributes"]
    assert (attributes.get("technique", []), attributes.get("facturation", [])) == ([], [])
    assert support.memberships[TECHNICIAN["id"]] == set()
