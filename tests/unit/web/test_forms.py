"""Forms of the member space: each field, its French messages and the normalized values."""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict

from portal.core.domain import ContactDetails
from portal.core.validation import parse_scope as parse_perimetre
from portal.web.espace.forms import (
    CollectionRequestForm,
    EditContactForm,
    TechnicalBillingContactForm,
)
from portal.web.fields import ConfirmForm, ContactForm, format_phone

F = TypeVar("F", bound=FlaskForm)

CONTACT: dict[str, str] = {
    "nom": "Dupont",
    "prenom": "Marie",
    "email": "marie.dupont@demoville.fr",
    "telephone_fixe": "01 23 45 67 89",
}
PERIMETRES = [
    ("213500010/1", "213500010 — Commune de Démoville — lot 1"),
    ("253500011/2", "253500011 — Syndicat de Démoville — lot 2"),
]

AT_LEAST_ONE_PHONE = "Indiquez au moins un numéro de téléphone (fixe ou mobile)."
IS_MOBILE = "Ce numéro est un mobile : indiquez-le dans « Téléphone mobile »."
NOT_MOBILE = "Ce numéro n’est pas un mobile : indiquez-le dans « Téléphone fixe »."
BAD_FIXE = "Ce numéro de téléphone n’est pas valide (exemple : 01 23 45 67 89)."
BAD_MOBILE = "Ce numéro de téléphone n’est pas valide (exemple : 06 12 34 56 78)."
FOREIGN = "Indiquez un numéro français (métropole ou outre-mer)."
BAD_EMAIL = "Cette adresse e-mail n’est pas valide (exemple : prenom.nom@exemple.fr)."
NAME_CHARACTERS = (
    " ne peut contenir que des lettres, des espaces, des apostrophes, "
    "des traits d’union et des points."
)


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret-key", WTF_CSRF_ENABLED=False)
    return app


def submit(app: Flask, form_class: type[F], data: Any, **kwargs: Any) -> tuple[bool, F]:
    """Validate ``form_class`` against a POST of ``data``."""
    with app.test_request_context(method="POST", data=data):
        form = form_class(**kwargs)
        return form.validate(), form


def errors(app: Flask, form_class: type[FlaskForm], data: Any, **kwargs: Any) -> dict[str, Any]:
    valid, form = submit(app, form_class, data, **kwargs)
    assert not valid
    result: dict[str, Any] = form.errors
    return result


# --- ContactForm -------------------------------------------------------------------------------


def test_valid_contact_gives_normalized_data(app: Flask) -> None:
    valid, form = submit(app, ContactForm, {**CONTACT, "telephone_mobile": "06 12 34 56 78"})
    assert valid, form.errors
    assert form.contact_data() == ContactDetails(
        last_name="Dupont",
        first_name="Marie",
        email="marie.dupont@demoville.fr",
        phone_fixe="+33123456789",
        phone_mobile="+33612345678",
    )


def test_contact_data_needs_a_validated_form(app: Flask) -> None:
    with app.test_request_context(method="POST", data=CONTACT):
        form = ContactForm()
        with pytest.raises(RuntimeError):
            form.contact_data()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Dupont", "Dupont"),
        ("  Le   Hénaff-d’Aubigné ", "Le Hénaff-d’Aubigné"),
        ("O'Neil", "O'Neil"),
        ("St. John", "St. John"),
        ("Åsa Ødegård", "Åsa Ødegård"),
        ("e\u0301lise", "élise"),  # decomposed accent stored composed (NFC)
        ("x" * 100, "x" * 100),
    ],
)
@pytest.mark.parametrize(("field", "attribute"), [("nom", "last_name"), ("prenom", "first_name")])
def test_names_accepted(app: Flask, field: str, attribute: str, given: str, kept: str) -> None:
    valid, form = submit(app, ContactForm, {**CONTACT, field: given})
    assert valid, form.errors
    assert getattr(form.contact_data(), attribute) == kept


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "Indiquez {what}."),
        ("   ", "Indiquez {what}."),
        ("Dupont2", "{What}" + NAME_CHARACTERS),
        ("<script>alert(1)</script>", "{What}" + NAME_CHARACTERS),
        ("<b>Dupont</b>", "{What}" + NAME_CHARACTERS),
        ("Dupont; DROP", "{What}" + NAME_CHARACTERS),
        ("- .", "{What}" + NAME_CHARACTERS),
        ("x" * 101, "{What} ne doit pas dépasser 100 caractères."),
    ],
)
@pytest.mark.parametrize(("field", "what"), [("nom", "le nom"), ("prenom", "le prénom")])
def test_names_rejected(app: Flask, field: str, what: str, given: str, message: str) -> None:
    expected = message.format(what=what, What=what.capitalize())
    assert errors(app, ContactForm, {**CONTACT, field: given}) == {field: [expected]}


def test_missing_fields_are_required(app: Flask) -> None:
    assert errors(app, ContactForm, {}) == {
        "nom": ["Indiquez le nom."],
        "prenom": ["Indiquez le prénom."],
        "email": ["Indiquez l’adresse e-mail."],
        "telephone_fixe": [AT_LEAST_ONE_PHONE],
    }


def test_email_is_normalized_and_lowercased(app: Flask) -> None:
    valid, form = submit(app, ContactForm, {**CONTACT, "email": "  Marie.Dupont@DemoVille.FR "})
    assert valid, form.errors
    assert form.contact_data().email == "marie.dupont@demoville.fr"


@pytest.mark.parametrize(
    "email",
    [
        "marie.dupont",
        "marie.dupont@",
        "@demoville.fr",
        "marie dupont@demoville.fr",
        "marie@@demoville.fr",
        "marie@localhost",
        "Marie Dupont <marie@demoville.fr>",
        "élise@demoville.fr",
        "<script>@demoville.fr",
    ],
)
def test_email_rejected(app: Flask, email: str) -> None:
    assert errors(app, ContactForm, {**CONTACT, "email": email}) == {"email": [BAD_EMAIL]}


def test_email_too_long(app: Flask) -> None:
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 59 + ".fr"
    assert len(email) == 255
    assert errors(app, ContactForm, {**CONTACT, "email": email}) == {
        "email": ["L’adresse e-mail ne doit pas dépasser 254 caractères."]
    }


@pytest.mark.parametrize(
    ("field", "given", "e164"),
    [
        ("telephone_fixe", "01 23 45 67 89", "+33123456789"),
        ("telephone_fixe", "0123456789", "+33123456789"),
        ("telephone_fixe", "01.23.45.67.89", "+33123456789"),
        ("telephone_fixe", "+33 1 23 45 67 89", "+33123456789"),
        ("telephone_fixe", "+33 (0)1 23 45 67 89", "+33123456789"),
        ("telephone_fixe", "0033 1 23 45 67 89", "+33123456789"),
        ("telephone_fixe", "09 12 34 56 78", "+33912345678"),
        ("telephone_fixe", "+262 262 12 34 56", "+262262123456"),
        ("telephone_fixe", "0262 12 34 56", "+262262123456"),
        ("telephone_mobile", "06 12 34 56 78", "+33612345678"),
        ("telephone_mobile", "0033 6 12 34 56 78", "+33612345678"),
        ("telephone_mobile", "+262 692 12 34 56", "+262692123456"),
        ("telephone_mobile", "0692 12 34 56", "+262692123456"),
        ("telephone_mobile", "+590 690 00 12 34", "+590690001234"),
        ("telephone_mobile", "+594 694 20 12 34", "+594694201234"),
        ("telephone_mobile", "+596 696 20 12 34", "+596696201234"),
        ("telephone_mobile", "+687 75 12 34", "+687751234"),
    ],
)
def test_phones_accepted_in_e164(app: Flask, field: str, given: str, e164: str) -> None:
    data = {**CONTACT, "telephone_fixe": "", field: given}
    valid, form = submit(app, ContactForm, data)
    assert valid, form.errors
    contact = form.contact_data()
    assert (contact.phone_fixe, contact.phone_mobile) == (
        (e164, None) if field == "telephone_fixe" else (None, e164)
    )


@pytest.mark.parametrize(
    ("field", "given", "message"),
    [
        ("telephone_fixe", "06 12 34 56 78", IS_MOBILE),
        ("telephone_fixe", "+262 692 12 34 56", IS_MOBILE),
        ("telephone_mobile", "01 23 45 67 89", NOT_MOBILE),
        ("telephone_mobile", "09 12 34 56 78", NOT_MOBILE),
        ("telephone_fixe", "pas un numéro", BAD_FIXE),
        ("telephone_fixe", "<script>", BAD_FIXE),
        ("telephone_fixe", "12", BAD_FIXE),
        ("telephone_fixe", "01 23 45 67", BAD_FIXE),
        ("telephone_fixe", "01 23 45 67 89 00", BAD_FIXE),
        ("telephone_fixe", "01 23 45 67 89 poste 12", BAD_FIXE),
        ("telephone_mobile", "06 12", BAD_MOBILE),
        ("telephone_mobile", "+44 20 7946 0958", FOREIGN),
        ("telephone_mobile", "+269 773 12 34", FOREIGN),  # Comores, not Mayotte (+262 639)
        ("telephone_fixe", "0" * 31, "Le numéro ne doit pas dépasser 30 caractères."),
    ],
)
def test_phones_rejected(app: Flask, field: str, given: str, message: str) -> None:
    other = "telephone_mobile" if field == "telephone_fixe" else "telephone_fixe"
    valid_other = "06 12 34 56 78" if other == "telephone_mobile" else "01 23 45 67 89"
    data = {**CONTACT, other: valid_other, field: given}
    assert errors(app, ContactForm, data) == {field: [message]}


def test_mobile_alone_is_enough(app: Flask) -> None:
    data = {**CONTACT, "telephone_fixe": " ", "telephone_mobile": "06 12 34 56 78"}
    valid, form = submit(app, ContactForm, data)
    assert valid, form.errors
    assert form.contact_data().phone_fixe is None


def test_no_phone_at_all(app: Flask) -> None:
    data = {**CONTACT, "telephone_fixe": "", "telephone_mobile": ""}
    assert errors(app, ContactForm, data) == {"telephone_fixe": [AT_LEAST_ONE_PHONE]}


def test_a_bad_phone_is_not_also_reported_as_missing(app: Flask) -> None:
    data = {**CONTACT, "telephone_fixe": "", "telephone_mobile": "n’importe quoi"}
    assert errors(app, ContactForm, data) == {"telephone_mobile": [BAD_MOBILE]}


def test_fields_carry_labels_and_autocomplete(app: Flask) -> None:
    with app.test_request_context():
        form = ContactForm()
        assert [(field.name, field.label.text) for field in form] == [
            ("nom", "Nom"),
            ("prenom", "Prénom"),
            ("email", "Adresse e-mail"),
            ("telephone_fixe", "Téléphone fixe"),
            ("telephone_mobile", "Téléphone mobile"),
        ]
        assert 'autocomplete="family-name"' in form.nom()
        assert 'autocomplete="given-name"' in form.prenom()
        assert 'autocomplete="email"' in form.email()
        assert 'type="email"' in form.email()
        assert 'autocomplete="tel"' in form.telephone_fixe()
        assert 'autocomplete="tel"' in form.telephone_mobile()
        assert 'maxlength="100"' in form.nom()
        assert 'maxlength="254"' in form.email()


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
