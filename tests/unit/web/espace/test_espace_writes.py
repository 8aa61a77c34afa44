"""Mon espace: each change exactly as sent to Keycloak; bad input writes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.web import fields
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_A, SCOPE_B, SIREN_A, user_json
from tests.helpers.pages import assert_field_error, flashes, html
from tests.helpers.personas import MEMBER, TECHNICIAN
from tests.helpers.settings import ADMIN_USERS_URL

Post = Callable[..., TestResponse]
NEW_ID = "n0000000-0000-4000-8000-00000000000n"
NEW_EMAIL = "jean.nouveau@demoville.fr"
CONTACT = {
    "nom": "Nouveau",
    "prenom": "Jean",
    "email": NEW_EMAIL,
    "telephone_fixe": "02 99 00 00 01",
    "telephone_mobile": "06 12 34 56 78",
}
SCOPE_PAGE = f"/espace/{SIREN_A}/1/"
NEW_CONTACT_URL = f"{SCOPE_PAGE}contacts/nouveau"
TECHNICIAN_URL = f"{SCOPE_PAGE}contacts/{TECHNICIAN['id']}"
REQUEST_URL = "/espace/demandes/nouvelle"
ALREADY = "Cette personne est déjà interlocuteur de collecte pour ce SIREN et ce lot."
UNAVAILABLE = (
    "Votre demande n’a pas pu être transmise au support : la messagerie est momentanément "
    "indisponible. Rien n’a été enregistré ; veuillez réessayer plus tard."
)


def user_url(person: dict[str, Any] | str) -> str:
    return f"{ADMIN_USERS_URL}/{person if isinstance(person, str) else person['id']}"


def audit(body: dict[str, Any]) -> dict[str, str]:
    """The `derniereModification` record of a body sent to Keycloak, time checked and removed."""
    change: dict[str, str] = json.loads(body["attributes"].pop("derniereModification")[0])
    assert datetime.fromisoformat(change.pop("le")).tzinfo is not None
    return change


def assert_back_to_scope(response: TestResponse, client: FlaskClient, message: str) -> None:
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location == SCOPE_PAGE
    assert flashes(client) == [("info", message)]


# --- technical and billing contacts -----------------------------------------------------------


def test_add_a_new_person_as_billing_and_technical_contact(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    member.adherent(SIREN_A)
    member.email_search(NEW_EMAIL, [])
    member.accept_create(NEW_ID)

    response = post(NEW_CONTACT_URL, {**CONTACT, "fonctions": ["technique", "facturation"]})

    assert_back_to_scope(response, client, "Contact enregistré.")
    # Both functions in one write: no half-made contact if Keycloak fails half-way.
    [created] = member.sent("POST")
    assert audit(created) == {
        "par": "marie.dupont@demoville.fr",
        "quoi": "ajout interlocuteur de facturation et interlocuteur technique 213500010/1",
    }
    assert created == {
        "email": NEW_EMAIL,
        "firstName": "Jean",
        "lastName": "Nouveau",
        "enabled": True,
        "attributes": {
            "facturation": ["213500010/1"],
            "technique": ["213500010/1"],
            "telephoneFixe": ["+33299000001"],
            "telephoneMobile": ["+33612345678"],
        },
        "groups": ["/GRP-DEMO/213500010"],
    }
    assert member.sent("PUT") == []


def test_an_existing_email_gains_the_function_without_a_new_person(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    existing = user_json(
        "e-1",
        "claire.existante@demoville.fr",
        "Claire",
        "Existante",
        technique=[SCOPE_B],
        telephoneFixe=["+33299000009"],
        terms_and_conditions=["1795881002"],
        cguVersionAcceptee=["2026-11"],
    )
    member.adherent(SIREN_A)
    member.email_search(existing["email"], [existing])
    member.person(existing)
    member.accept_update("e-1")
    member.accept_join("e-1", SIREN_A)

    data = {**CONTACT, "email": "Claire.Existante@demoville.fr", "fonctions": "technique"}
    response = post(NEW_CONTACT_URL, data)

    assert_back_to_scope(response, client, "Contact enregistré.")
    assert member.writes() == [
        f"PUT {user_url('e-1')}",
        f"PUT {user_url('e-1')}/groups/g-213500010",
    ]
    [updated] = member.sent("PUT", user_url("e-1"))
    assert audit(updated)["quoi"] == "ajout interlocuteur technique 213500010/1"
    # Names and phones are the person's own; Keycloak's read-only data is not sent back.
    assert (updated["firstName"], updated["lastName"]) == ("Claire", "Existante")
    assert updated["attributes"] == {
        "technique": [SCOPE_B, SCOPE_A],
        "telephoneFixe": ["+33299000009"],
    }
    assert not {"access", "createdTimestamp"} & updated.keys()


def test_a_failed_group_join_undoes_the_new_function(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    existing = user_json(
        "e-1", "claire.existante@demoville.fr", "Claire", "Existante", technique=[SCOPE_B]
    )
    member.adherent(SIREN_A)
    member.email_search(existing["email"], [existing])
    member.person(existing)
    member.accept_update("e-1")
    member.kc.put(f"{user_url('e-1')}/groups/g-{SIREN_A}", status=503)

    response = post(
        NEW_CONTACT_URL, {**CONTACT, "email": existing["email"], "fonctions": "technique"}
    )

    assert response.status_code == 503
    assert "momentanément indisponible" in response.get_data(as_text=True)
    granted, undone = member.sent("PUT", user_url("e-1"))
    assert granted["attributes"]["technique"] == [SCOPE_B, SCOPE_A]
    assert undone["attributes"]["technique"] == [SCOPE_B]


def test_edit_a_contact(client: FlaskClient, member: AdminApi, post: Post) -> None:
    member.person(TECHNICIAN)
    member.accept_update(TECHNICIAN["id"])
    data = {
        "nom": "Technicien-Martin",
        "prenom": "Jean",
        "email": "pirate@example.fr",  # not a field of this form: ignored
        "telephone_fixe": "",
        "telephone_mobile": "0692 12 34 56",
        "fonctions": "technique",
    }

    response = post(f"{TECHNICIAN_URL}/modifier", data)

    assert_back_to_scope(response, client, "Contact modifié.")
    [updated] = member.sent("PUT", user_url(TECHNICIAN))
    assert audit(updated)["quoi"] == "modification contact 213500010/1"
    assert (updated["email"], updated["firstName"], updated["lastName"]) == (
        "jean.technicien@demoville.fr",
        "Jean",
        "Technicien-Martin",
    )
    assert updated["attributes"] == {
        "technique": [SCOPE_A],
        "facturation": [],
        "telephoneFixe": [],
        "telephoneMobile": ["+262692123456"],
    }


def test_remove_a_contact(client: FlaskClient, member: AdminApi, post: Post) -> None:
    member.person(TECHNICIAN)
    member.accept_update(TECHNICIAN["id"])
    member.accept_leave(TECHNICIAN["id"], SIREN_A)

    response = post(f"{TECHNICIAN_URL}/retirer")

    assert_back_to_scope(response, client, "Contact retiré.")
    # Nothing links them to any lot of the SIREN any more: out of the adherent's group.
    assert member.memberships[TECHNICIAN["id"]] == set()
    [updated] = member.sent("PUT", user_url(TECHNICIAN))
    assert audit(updated)["quoi"] == "retrait technique/facturation 213500010/1"
    assert updated["attributes"]["technique"] == []
    assert updated["attributes"]["facturation"] == []
    assert updated["attributes"]["telephoneFixe"] == ["+33299000001"]


def test_unknown_adherent_is_a_form_error(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    member.no_adherent(SIREN_A)
    response = post(NEW_CONTACT_URL, {**CONTACT, "fonctions": "technique"})
    assert response.status_code == 422
    page = html(response)
    assert (
        "Ce SIREN n’est rattaché à aucun adhérent de la plateforme"
        in page.find("div", class_="resume-erreurs").text()
    )
    assert page.find("input", name="email").attrs["value"] == NEW_EMAIL
    assert member.writes() == []


# --- requests for a new collection contact ----------------------------------------------------


def test_request_a_collection_contact(
    client: FlaskClient, member: AdminApi, post: Post, outbox: list[EmailMessage]
) -> None:
    member.adherent(SIREN_A)
    member.email_search(NEW_EMAIL, [])
    member.accept_create(NEW_ID)

    response = post(REQUEST_URL, {**CONTACT, "perimetre": SCOPE_A})

    assert_back_to_scope(
        response, client, "Demande transmise au support : vous pouvez suivre son état ci-dessous."
    )
    [created] = member.sent("POST")
    assert audit(created)["quoi"] == "demande collecte 213500010/1"
    attributes = created["attributes"]
    assert "collecte" not in attributes  # support decides
    assert attributes["demandeCollecteSur"] == [SCOPE_A]
    [record] = [json.loads(value) for value in attributes["demandesCollecte"]]
    assert (record["perimetre"], record["demandeur"], record["statut"]) == (
        SCOPE_A,
        "marie.dupont@demoville.fr",
        "en-attente",
    )
    assert created["groups"] == ["/GRP-DEMO/213500010"]

    [mail] = outbox
    assert (mail["To"], mail["From"]) == (
        "support@collecte.localhost",
        "ne-pas-repondre@collecte.localhost",
    )
    assert mail["Subject"] == "Demande d'interlocuteur de collecte — SIREN 213500010, lot 1"
    body = mail.get_content()
    for line in (
        "marie.dupont@demoville.fr demande l'ajout d'un interlocuteur de collecte",
        "Nom : Nouveau",
        "Prénom : Jean",
        f"Adresse e-mail : {NEW_EMAIL}",
        "Téléphone : +33299000001 / +33612345678",
        "SIREN concerné : 213500010 Commune de Démoville",
        "Lot concerné : 1",
        "http://localhost/support/?siren=213500010&lot=1",
    ):
        assert line in body


def test_request_is_withdrawn_when_support_cannot_be_told(
    client: FlaskClient, member: AdminApi, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("portal.core.notify.smtplib.SMTP", refuse)
    member.adherent(SIREN_A)
    member.email_search(TECHNICIAN["email"], [TECHNICIAN])
    member.person(TECHNICIAN)
    member.accept_update(TECHNICIAN["id"])
    member.accept_join(TECHNICIAN["id"], SIREN_A)

    response = post(REQUEST_URL, {**CONTACT, "email": TECHNICIAN["email"], "perimetre": SCOPE_A})

    assert response.status_code == 503
    assert UNAVAILABLE in html(response).by_id("contenu").text()
    recorded, withdrawn = member.sent("PUT", user_url(TECHNICIAN))
    [request] = [json.loads(value) for value in recorded["attributes"]["demandesCollecte"]]
    assert recorded["attributes"]["demandeCollecteSur"] == [SCOPE_A]
    assert audit(withdrawn)["quoi"] == "demande collecte 213500010/1 annulée"
    assert withdrawn["attributes"]["demandesCollecte"] == []
    assert withdrawn["attributes"]["demandeCollecteSur"] == []
    assert request["id"] not in json.dumps(member.people[TECHNICIAN["id"]])


def test_already_a_collection_contact(client: FlaskClient, member: AdminApi, post: Post) -> None:
    member.adherent(SIREN_A)
    member.email_search(MEMBER["email"], [MEMBER])

    response = post(REQUEST_URL, {**CONTACT, "email": MEMBER["email"], "perimetre": SCOPE_A})

    assert response.status_code == 422
    assert html(response).by_id("email-erreur").text() == ALREADY
    assert member.writes() == []


# --- bad input: every field of every form, next to the field, nothing written ------------------

NAME_CHARACTERS = (
    " ne peut contenir que des lettres, des espaces, des apostrophes, des traits d’union et des "
    "points."
)
PERSON_CASES = [
    ("nom", "", "Indiquez le nom."),
    ("nom", "R2-D2", "Le nom" + NAME_CHARACTERS),
    ("nom", "x" * 101, "Le nom ne doit pas dépasser 100 caractères."),
    ("prenom", "", "Indiquez le prénom."),
    ("prenom", "<b>Jean</b>", "Le prénom" + NAME_CHARACTERS),
    ("telephone_fixe", "06 12 34 56 78", fields.PHONE_IS_MOBILE),
    ("telephone_fixe", "12", "Ce numéro de téléphone n’est pas valide (exemple : 01 23 45 67 89)."),
    ("telephone_mobile", "01 23 45 67 89", fields.PHONE_NOT_MOBILE),
    ("telephone_mobile", "+44 7911 123456", fields.PHONE_FOREIGN),
]
EMAIL_CASES = [
    ("email", "", "Indiquez l’adresse e-mail."),
    ("email", "pas-une-adresse", fields.EMAIL_INVALID),
]
FUNCTION_CASES = [
    ("fonctions", [], "Cochez au moins une fonction."),
    ("fonctions", ["collecte"], "Choisissez parmi les fonctions proposées."),
]
PERIMETRE_CASES = [
    ("perimetre", "", "Choisissez le SIREN et le lot concernés."),
    ("perimetre", SCOPE_B, "Choisissez un SIREN et un lot parmi ceux proposés."),
]
NO_PHONE = {"telephone_fixe": "", "telephone_mobile": ""}

FORMS: dict[str, tuple[str, dict[str, Any], Callable[[AdminApi], None]]] = {
    "ajout": (NEW_CONTACT_URL, {**CONTACT, "fonctions": "technique"}, lambda api: None),
    "modification": (
        f"{TECHNICIAN_URL}/modifier",
        {**CONTACT, "fonctions": "technique"},
        lambda api: api.person(TECHNICIAN),
    ),
    "demande": (REQUEST_URL, {**CONTACT, "perimetre": SCOPE_A}, lambda api: api.adherent(SIREN_A)),
}
BAD_INPUT = [
    pytest.param(form, field, value, message, id=f"{form}-{field}-{value!r:.20}")
    for form, cases in (
        ("ajout", PERSON_CASES + EMAIL_CASES + FUNCTION_CASES),
        ("modification", PERSON_CASES + FUNCTION_CASES),
        ("demande", PERSON_CASES + EMAIL_CASES + PERIMETRE_CASES),
    )
    for field, value, message in cases
]


def submit_bad(post: Post, member: AdminApi, form: str, changes: dict[str, Any]) -> TestResponse:
    url, valid, reads = FORMS[form]
    reads(member)
    response = post(url, {**valid, **changes})
    assert response.status_code == 422
    assert member.writes() == []
    return response


@pytest.mark.parametrize(("form", "field", "value", "message"), BAD_INPUT)
def test_bad_input_is_shown_next_to_its_field(
    member: AdminApi, post: Post, form: str, field: str, value: Any, message: str
) -> None:
    assert_field_error(submit_bad(post, member, form, {field: value}), field, message)


@pytest.mark.parametrize("form", FORMS)
def test_at_least_one_phone(member: AdminApi, post: Post, form: str) -> None:
    page = html(submit_bad(post, member, form, NO_PHONE))
    assert page.by_id("telephone_fixe-erreur").text() == fields.PHONE_REQUIRED
