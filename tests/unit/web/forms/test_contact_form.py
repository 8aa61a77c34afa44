"""The contact form (ContactForm): each field (names, e-mail, landline and mobile phones),
its French messages, the normalized values and the fields' labels and attributes."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.core.domain import ContactDetails
from portal.web.fields import ContactForm

from ._forms_support import (
    AT_LEAST_ONE_PHONE,
    BAD_EMAIL,
    BAD_FIXE,
    BAD_MOBILE,
    CONTACT,
    FOREIGN,
    IS_MOBILE,
    NAME_CHARACTERS,
    NOT_MOBILE,
    errors,
    submit,
)

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
