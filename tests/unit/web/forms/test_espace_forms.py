"""The member space's forms built on the contact form (technical/billing contact, edit,
collection request with its SIREN/lot), the confirmation form, and the field helpers
(SIREN/lot parsing, phone display)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from portal.core.domain import ContactDetails
from portal.core.validation import parse_scope as parse_perimetre
from portal.web.espace.forms import (
    CollectionRequestForm,
    EditContactForm,
    TechnicalBillingContactForm,
)
from portal.web.fields import ConfirmForm, format_phone

from ._forms_support import (
    AT_LEAST_ONE_PHONE,
    BAD_EMAIL,
    CONTACT,
    IS_MOBILE,
    NAME_CHARACTERS,
    errors,
    submit,
)

PERIMETRES = [
    ("213500010/1", "213500010 — Commune de Démoville — lot 1"),
    ("253500011/2", "253500011 — Syndicat de Démoville — lot 2"),
]


# --- TechnicalBillingContactForm and EditContactForm ---------------------------------------------


@pytest.mark.parametrize(
    "chosen",
    [["technique"], ["facturation"], ["technique", "facturation"]],
)
def test_functions(app: Flask, chosen: list[str]) -> None:
    data = MultiDict([*CONTACT.items(), *(("fonctions", value) for value in chosen)])
    valid, form = submit(app, TechnicalBillingContactForm, data)
    assert valid, form.errors
    assert form.selected_functions() == frozenset(chosen)
    assert form.contact_data().email == "marie.dupont@demoville.fr"


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        ([], "Cochez au moins une fonction."),
        (["collecte"], "Choisissez parmi les fonctions proposées."),
        (["technique", "admin"], "Choisissez parmi les fonctions proposées."),
    ],
)
def test_functions_rejected(app: Flask, chosen: list[str], message: str) -> None:
    data = MultiDict([*CONTACT.items(), *(("fonctions", value) for value in chosen)])
    assert errors(app, TechnicalBillingContactForm, data) == {"fonctions": [message]}


def test_functions_are_checkboxes_none_of_them_required(app: Flask) -> None:
    with app.test_request_context():
        form = TechnicalBillingContactForm()
        html = form.fonctions()
        assert form.fonctions.label.text == "Fonction(s)"
        assert html.count('type="checkbox"') == 2
        assert "Interlocuteur technique" in html
        assert "Interlocuteur de facturation" in html
        assert "required" not in html


def test_edit_form_has_no_email(app: Flask) -> None:
    data = MultiDict(
        [
            ("nom", "Martin"),
            ("prenom", "Camille"),
            ("email", "autre@exemple.fr"),
            ("telephone_mobile", "+33 6 12 34 56 78"),
            ("fonctions", "facturation"),
        ]
    )
    valid, form = submit(app, EditContactForm, data)
    assert valid, form.errors
    assert "email" not in form
    assert [field.name for field in form] == [
        "nom",
        "prenom",
        "telephone_fixe",
        "telephone_mobile",
        "fonctions",
    ]
    assert form.selected_functions() == {"facturation"}
    assert form.contact_data("camille.martin@example.fr") == ContactDetails(
        last_name="Martin",
        first_name="Camille",
        email="camille.martin@example.fr",
        phone_fixe=None,
        phone_mobile="+33612345678",
    )


def test_edit_form_checks_names_phones_and_functions(app: Flask) -> None:
    assert errors(app, EditContactForm, {"nom": "M4rtin", "telephone_fixe": "06 12 34 56 78"}) == {
        "nom": ["Le nom" + NAME_CHARACTERS],
        "prenom": ["Indiquez le prénom."],
        "telephone_fixe": [IS_MOBILE],
        "fonctions": ["Cochez au moins une fonction."],
    }


# --- CollectionRequestForm ---------------------------------------------------------------------


def test_collection_request(app: Flask) -> None:
    data = {**CONTACT, "perimetre": "253500011/2"}
    valid, form = submit(app, CollectionRequestForm, data, perimetres=PERIMETRES)
    assert valid, form.errors
    assert form.selected_perimetre() == ("253500011", "2")
    assert form.contact_data().phone_fixe == "+33123456789"
    assert form.perimetre.label.text == "SIREN et lot concernés"


@pytest.mark.parametrize(
    ("perimetre", "message"),
    [
        ("", "Choisissez le SIREN et le lot concernés."),
        ("213500010/2", "Choisissez un SIREN et un lot parmi ceux proposés."),
        ("732829320/1", "Choisissez un SIREN et un lot parmi ceux proposés."),
        ("213500011/1", "Choisissez un SIREN et un lot parmi ceux proposés."),
    ],
)
def test_perimetre_must_be_offered(app: Flask, perimetre: str, message: str) -> None:
    data = {**CONTACT, "perimetre": perimetre}
    assert errors(app, CollectionRequestForm, data, perimetres=PERIMETRES) == {
        "perimetre": [message]
    }


def test_perimetre_missing_from_post(app: Flask) -> None:
    assert errors(app, CollectionRequestForm, CONTACT, perimetres=PERIMETRES) == {
        "perimetre": ["Choisissez le SIREN et le lot concernés."]
    }


@pytest.mark.parametrize("perimetre", ["213500011/1", "213500010/-1", "213500010"])
def test_offered_perimetre_is_checked_again(app: Flask, perimetre: str) -> None:
    """A bad value offered by mistake (bad SIREN check digit, bad lot) is still refused."""
    data = {**CONTACT, "perimetre": perimetre}
    offered = [*PERIMETRES, (perimetre, "offert par erreur")]
    assert errors(app, CollectionRequestForm, data, perimetres=offered) == {
        "perimetre": [
            "Ce couple SIREN/lot n’est pas valide (clé de contrôle du SIREN ou lot incorrect)."
        ]
    }


def test_collection_request_checks_the_contact_too(app: Flask) -> None:
    data = {"nom": "Dupont", "prenom": "", "email": "x", "perimetre": "213500010/1"}
    assert errors(app, CollectionRequestForm, data, perimetres=PERIMETRES) == {
        "prenom": ["Indiquez le prénom."],
        "email": [BAD_EMAIL],
        "telephone_fixe": [AT_LEAST_ONE_PHONE],
    }


# --- ConfirmForm -------------------------------------------------------------------------------


def test_confirm_form_has_no_field(app: Flask) -> None:
    valid, form = submit(app, ConfirmForm, {})
    assert valid
    assert list(form) == []


def test_confirm_form_checks_the_csrf_token(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    valid, form = submit(app, ConfirmForm, {})
    assert not valid
    assert list(form.errors) == ["csrf_token"]
    with app.test_request_context(method="POST"):
        form = ConfirmForm(formdata=MultiDict({"csrf_token": generate_csrf()}))
        assert form.validate(), form.errors


# --- helpers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("213500010/1", ("213500010", "1")),
        ("253500011/LOT-A2", ("253500011", "LOT-A2")),
        ("213500010/" + "a" * 20, ("213500010", "a" * 20)),
        ("213500011/1", None),  # check digit
        ("213500010", None),
        ("213500010/", None),
        ("/1", None),
        ("213500010/-1", None),
        ("213500010/lot 1", None),
        ("213500010/1/2", None),
        ("213500010/" + "a" * 21, None),
        ("213500010/1\n", None),
        ("213 500 010/1", None),
        ("21350001/1", None),
        ("", None),
    ],
)
def test_parse_perimetre(value: str, expected: tuple[str, str] | None) -> None:
    assert parse_perimetre(value) == expected


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+33123456789", "01 23 45 67 89"),
        ("+33612345678", "06 12 34 56 78"),
        ("+262692123456", "+262 692 12 34 56"),
        ("+590690001234", "+590 690 00 12 34"),
        ("pas un numéro", "pas un numéro"),
    ],
)
def test_format_phone(e164: str, shown: str) -> None:
    assert format_phone(e164) == shown
