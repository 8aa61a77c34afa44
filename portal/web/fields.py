"""What the forms of every area share: fields, validators, base forms and their French messages.

Field values are checked with the field libraries through :mod:`portal.core.validation`:
python-stdnum (SIREN check digit), phonenumbers (French numbers, kept in E.164) and
email-validator (syntax only, no network). Once a form has validated, its normalized values are
read through :meth:`ContactForm.contact_data` and friends, never from the raw request. Each
area's own forms live beside its views (``portal/web/<area>/forms.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import phonenumbers
from flask_wtf import FlaskForm
from phonenumbers import NumberParseException, PhoneNumberFormat
from wtforms import EmailField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.core.domain import ContactDetails, Scope
from portal.core.validation import (
    EMAIL_INVALID,
    EMAIL_MAX,
    EMAIL_TOO_LONG,
    LABEL_FIXE,
    LABEL_MOBILE,
    LOT_INVALID,
    NAME_MAX,
    PHONE_FOREIGN,
    PHONE_IS_MOBILE,
    PHONE_MAX,
    PHONE_NOT_MOBILE,
    PHONE_TOO_LONG,
    SIREN_INVALID,
    # The same checks as the bulk import's reading: one validation for forms and files.
    FieldError,
    check_email,
    check_lot,
    check_phone,
    check_siren,
    clean_text,
    is_person_name,
    name_error,
)

__all__ = [
    "EMAIL_INVALID",
    "LOT_INVALID",
    "PHONE_FOREIGN",
    "PHONE_IS_MOBILE",
    "PHONE_NOT_MOBILE",
    "SIREN_INVALID",
    "BaseForm",
    "ConfirmForm",
    "ContactForm",
    "PersonForm",
    "email_field",
    "format_phone",
    "lot_field",
    "siren_field",
    "strip_spaces",
    "valid_email",
]

EMAIL_REQUIRED = "Indiquez l’adresse e-mail."
PHONE_REQUIRED = "Indiquez au moins un numéro de téléphone (fixe ou mobile)."
SIREN_REQUIRED = "Indiquez le SIREN."
LOT_REQUIRED = "Indiquez le lot."

Validator = Callable[[Any, Any], None]


def format_phone(e164: str) -> str:
    """A stored E.164 number for display: "01 23 45 67 89", overseas "+262 692 12 34 56".

    A value that does not parse is returned unchanged.
    """
    try:
        number = phonenumbers.parse(e164)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == "FR":
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


# --- validators -------------------------------------------------------------------------------


def strip_spaces(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _person_name(message: str) -> Validator:
    def check(form: Any, field: Any) -> None:
        if field.errors:
            return
        if not is_person_name(field.data):
            raise ValidationError(message)

    return check


def _checked(check: Callable[[str], str]) -> Validator:
    """A validator from a :mod:`portal.core.validation` check: the field keeps the normalized
    value, or shows the check's French message."""

    def validate(form: Any, field: Any) -> None:
        if field.errors:
            return
        try:
            field.data = check(field.data)
        except FieldError as error:
            raise ValidationError(str(error)) from None

    return validate


valid_email = _checked(check_email)
#: A SIREN with its check digit (spaces and dots allowed), kept as its 9 digits.
valid_siren = _checked(check_siren)
valid_lot = _checked(check_lot)


def _required(required: bool, message: str) -> Any:
    """DataRequired, or Optional: an empty optional field is valid and skips its checks."""
    return DataRequired(message=message) if required else Optional()


# --- fields -----------------------------------------------------------------------------------


def email_field(*, required: bool) -> Any:
    return EmailField(
        "Adresse e-mail",
        filters=[strip_spaces],
        validators=[
            _required(required, EMAIL_REQUIRED),
            Length(max=EMAIL_MAX, message=EMAIL_TOO_LONG),
            valid_email,
        ],
        render_kw={"autocomplete": "email"},
    )


def siren_field(*, required: bool) -> Any:
    return StringField(
        "SIREN",
        filters=[strip_spaces],
        validators=[_required(required, SIREN_REQUIRED), valid_siren],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


def lot_field(*, required: bool) -> Any:
    return StringField(
        "Lot",
        filters=[strip_spaces],
        validators=[_required(required, LOT_REQUIRED), valid_lot],
        render_kw={"autocomplete": "off"},
    )


def _name_field(label: str, what: str, autocomplete: str) -> Any:
    """A required person name; ``what`` is "le nom" or "le prénom"."""
    subject = what[0].upper() + what[1:]
    return StringField(
        label,
        filters=[clean_text],
        validators=[
            DataRequired(message=f"Indiquez {what}."),
            Length(max=NAME_MAX, message=f"{subject} ne doit pas dépasser {NAME_MAX} caractères."),
            _person_name(name_error(what)),
        ],
        render_kw={"autocomplete": autocomplete},
    )


class _PhoneField(TelField):  # type: ignore[misc]
    """An optional French number (mainland or overseas); ``e164`` is set once it validates."""

    def __init__(self, label: str, *, mobile: bool, **kwargs: Any) -> None:
        super().__init__(
            label,
            filters=[strip_spaces],
            validators=[Optional(), Length(max=PHONE_MAX, message=PHONE_TOO_LONG)],
            render_kw={"autocomplete": "tel"},
            **kwargs,
        )
        self.mobile = mobile
        self.e164: str | None = None

    def post_validate(self, form: Any, validation_stopped: bool) -> None:
        self.e164 = None
        if validation_stopped or self.errors:
            return
        try:
            self.e164, _ = check_phone(self.data, self.mobile)
        except FieldError as error:
            raise ValidationError(str(error)) from None


# --- forms ------------------------------------------------------------------------------------


class BaseForm(FlaskForm):  # type: ignore[misc]
    """Base of the portal's forms (Flask-WTF has no type hints)."""


class ConfirmForm(BaseForm):
    """No field but the CSRF token: confirms a POST-only action such as a removal."""


# Fields are rendered in the order they are created, hence these small classes:
# name, e-mail, phones, then functions or perimeter.


class _NamesForm(BaseForm):
    nom = _name_field("Nom", "le nom", "family-name")
    prenom = _name_field("Prénom", "le prénom", "given-name")


class _EmailForm(BaseForm):
    email = email_field(required=True)


class PersonForm(_NamesForm):
    """Names and phones; at least one phone."""

    _validated = False
    telephone_fixe = _PhoneField(LABEL_FIXE, mobile=False)
    telephone_mobile = _PhoneField(LABEL_MOBILE, mobile=True)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if not self.telephone_fixe.data and not self.telephone_mobile.data:
            self.telephone_fixe.errors.append(PHONE_REQUIRED)
            valid = False
        self._validated = valid
        return valid

    def _contact_data(self, email: str) -> ContactDetails:
        if not self._validated:
            raise RuntimeError("contact_data() needs a form that has validated")
        return ContactDetails(
            last_name=self.nom.data,
            first_name=self.prenom.data,
            email=email,
            phone_fixe=self.telephone_fixe.e164,
            phone_mobile=self.telephone_mobile.e164,
        )


class ContactForm(PersonForm, _EmailForm):
    """A technical or billing contact, or a person proposed as collection contact."""

    def contact_data(self) -> ContactDetails:
        """The normalized details; only after the form has validated."""
        return self._contact_data(self.email.data)


class ScopedContactForm(ContactForm):
    """A person proposed as collection contact of one SIREN/lot, both typed: support's direct
    form and the public « demande sans compte »."""

    siren = siren_field(required=True)
    lot = lot_field(required=True)

    def selected_scope(self) -> Scope:
        """The SIREN/lot typed; only after the form has validated."""
        if not self._validated:
            raise RuntimeError("selected_scope() needs a form that has validated")
        return Scope(self.siren.data, self.lot.data)
