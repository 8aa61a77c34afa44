"""Forms of the member space, with French messages shown next to their field.

Field values are checked with the field libraries: python-stdnum (SIREN check
digit), phonenumbers (French numbers, kept in E.164) and email-validator
(syntax only, no network). Once a form has validated, its normalized values are
read through :meth:`ContactForm.contact_data` and friends, never from the raw
request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import phonenumbers
from flask_wtf import FlaskForm
from phonenumbers import NumberParseException, PhoneNumberFormat
from stdnum.fr import siren as stdnum_siren
from wtforms import (
    EmailField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.domain import LOT_PATTERN, ContactDetails, Scope
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
    FieldError,
    check_email,
    check_phone,
    check_siren,
    clean_text,
    is_person_name,
    name_error,
    parse_phone,
)

__all__ = [
    "EMAIL_INVALID",
    "FONCTIONS",
    "PHONE_FOREIGN",
    "PHONE_IS_MOBILE",
    "PHONE_NOT_MOBILE",
    "SIREN_INVALID",
    "AdherentSearchForm",
    "CollectionContactForm",
    "CollectionRequestForm",
    "ConfirmForm",
    "ContactForm",
    "DiagnosisForm",
    "EditContactForm",
    "HistoryForm",
    "PersonActionForm",
    "QueueFilterForm",
    "RefusalForm",
    "TechnicalBillingContactForm",
    "format_phone",
    "parse_perimetre",
]

#: The functions a technical or billing contact may hold (value, label).
FONCTIONS: tuple[tuple[str, str], ...] = (
    ("technique", "Interlocuteur technique"),
    ("facturation", "Interlocuteur de facturation"),
)


EMAIL_REQUIRED = "Indiquez l’adresse e-mail."
PHONE_REQUIRED = "Indiquez au moins un numéro de téléphone (fixe ou mobile)."
FONCTIONS_REQUIRED = "Cochez au moins une fonction."
FONCTION_UNKNOWN = "Choisissez parmi les fonctions proposées."
PERIMETRE_REQUIRED = "Choisissez le SIREN et le lot concernés."
PERIMETRE_NOT_OFFERED = "Choisissez un SIREN et un lot parmi ceux proposés."
PERIMETRE_INVALID = (
    "Ce couple SIREN/lot n’est pas valide (clé de contrôle du SIREN ou lot incorrect)."
)
SIREN_REQUIRED = "Indiquez le SIREN."
LOT_REQUIRED = "Indiquez le lot."
GROUPEMENT_MAX = 100
GROUPEMENT_TOO_LONG = f"Le groupement ne doit pas dépasser {GROUPEMENT_MAX} caractères."
MOTIF_MIN, MOTIF_MAX = 3, 500
MOTIF_INVALID = f"Indiquez le motif du refus ({MOTIF_MIN} à {MOTIF_MAX} caractères)."
HISTORY_ONE_CRITERION = "Indiquez soit une adresse e-mail, soit un SIREN, pas les deux."

Validator = Callable[[Any, Any], None]


def parse_perimetre(value: str) -> tuple[str, str] | None:
    """``(siren, lot)`` from ``"SIREN/lot"`` when the SIREN check digit and the lot are valid."""
    siren, separator, lot = value.partition("/")
    if (
        separator
        and stdnum_siren.compact(siren) == siren
        and stdnum_siren.is_valid(siren)
        and LOT_PATTERN.fullmatch(lot)
    ):
        return siren, lot
    return None


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


_parse_phone = parse_phone
_clean_text = clean_text


def strip_spaces(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _person_name(message: str) -> Validator:
    def check(form: Any, field: Any) -> None:
        if field.errors:
            return
        if not is_person_name(field.data):
            raise ValidationError(message)

    return check


def valid_email(form: Any, field: Any) -> None:
    if field.errors:
        return
    try:
        field.data = check_email(field.data)
    except FieldError as error:
        raise ValidationError(str(error)) from None


def _siren(form: Any, field: Any) -> None:
    """A SIREN with its check digit (spaces and dots allowed), kept as its 9 digits."""
    if field.errors:
        return
    try:
        field.data = check_siren(field.data)
    except FieldError as error:
        raise ValidationError(str(error)) from None


def _lot(form: Any, field: Any) -> None:
    if not field.errors and not LOT_PATTERN.fullmatch(field.data):
        raise ValidationError(LOT_INVALID)


def _required(required: bool, message: str) -> Any:
    """DataRequired, or Optional: an empty optional field is valid and skips its checks."""
    return DataRequired(message=message) if required else Optional()


def _email_field(*, required: bool) -> Any:
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


def _siren_field(*, required: bool) -> Any:
    return StringField(
        "SIREN",
        filters=[strip_spaces],
        validators=[_required(required, SIREN_REQUIRED), _siren],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


def _lot_field(*, required: bool) -> Any:
    return StringField(
        "Lot",
        filters=[strip_spaces],
        validators=[_required(required, LOT_REQUIRED), _lot],
        render_kw={"autocomplete": "off"},
    )


def _name_field(label: str, what: str, autocomplete: str) -> Any:
    """A required person name; ``what`` is "le nom" or "le prénom"."""
    subject = what[0].upper() + what[1:]
    return StringField(
        label,
        filters=[_clean_text],
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


class _FunctionsField(SelectMultipleField):  # type: ignore[misc]
    """Check boxes, at least one of the offered values."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        if not self.data:
            raise StopValidation(FONCTIONS_REQUIRED)
        try:
            super().pre_validate(form)
        except ValidationError:
            raise StopValidation(FONCTION_UNKNOWN) from None


class _PerimetreField(SelectField):  # type: ignore[misc]
    """One of the offered "SIREN/lot" values (WTForms checks it is offered)."""

    def pre_validate(self, form: Any) -> None:
        if not self.data:
            raise StopValidation(PERIMETRE_REQUIRED)
        try:
            super().pre_validate(form)
        except ValidationError:
            raise StopValidation(PERIMETRE_NOT_OFFERED) from None


def _valid_perimetre(form: Any, field: Any) -> None:
    if parse_perimetre(field.data) is None:
        raise ValidationError(PERIMETRE_INVALID)


class _Form(FlaskForm):  # type: ignore[misc]
    """Base of the forms below (Flask-WTF has no type hints)."""


# Fields are rendered in the order they are created, hence these small classes:
# name, e-mail, phones, then functions or perimeter.


class _NamesForm(_Form):
    nom = _name_field("Nom", "le nom", "family-name")
    prenom = _name_field("Prénom", "le prénom", "given-name")


class _EmailForm(_Form):
    email = _email_field(required=True)


class _PersonForm(_NamesForm):
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


class _FunctionsForm(_Form):
    fonctions = _FunctionsField(
        "Fonction(s)", choices=[SelectChoice(value, label) for value, label in FONCTIONS]
    )

    def selected_functions(self) -> frozenset[str]:
        """The checked functions, among "technique" and "facturation"."""
        return frozenset(self.fonctions.data or ())


class ContactForm(_PersonForm, _EmailForm):
    """A technical or billing contact, or a person proposed as collection contact."""

    def contact_data(self) -> ContactDetails:
        """The normalized details; only after the form has validated."""
        return self._contact_data(self.email.data)


class TechnicalBillingContactForm(ContactForm, _FunctionsForm):
    """A new technical and/or billing contact."""


class EditContactForm(_PersonForm, _FunctionsForm):
    """Edits a contact; the e-mail is the person's identifier, shown read-only, never posted."""

    def contact_data(self, email: str) -> ContactDetails:
        """The normalized details of the person identified by ``email``."""
        return self._contact_data(email)


class CollectionRequestForm(ContactForm):
    """Asks for a new collection contact on one of the member's SIREN/lot pairs."""

    perimetre = _PerimetreField("SIREN et lot concernés", validators=[_valid_perimetre])

    def __init__(self, perimetres: list[tuple[str, str]], **kwargs: Any) -> None:
        """``perimetres``: the member's own ("SIREN/lot", label) pairs."""
        super().__init__(**kwargs)
        self.perimetre.choices = [SelectChoice(value, label) for value, label in perimetres]

    def selected_perimetre(self) -> tuple[str, str]:
        """``(siren, lot)`` chosen; only after the form has validated."""
        chosen = parse_perimetre(self.perimetre.data or "")
        if chosen is None:
            raise RuntimeError("selected_perimetre() needs a form that has validated")
        return chosen


class ConfirmForm(_Form):
    """No field but the CSRF token: confirms a POST-only action such as a removal."""


# --- support console ---------------------------------------------------------------------------


class CollectionContactForm(ContactForm):
    """Support adds a collection contact to one SIREN/lot directly."""

    siren = _siren_field(required=True)
    lot = _lot_field(required=True)

    def selected_scope(self) -> Scope:
        """The SIREN/lot typed; only after the form has validated."""
        if not self._validated:
            raise RuntimeError("selected_scope() needs a form that has validated")
        return Scope(self.siren.data, self.lot.data)


class RefusalForm(_Form):
    """Support refuses a request, saying why (the member reads the reason)."""

    motif = TextAreaField(
        "Motif du refus",
        filters=[strip_spaces],
        validators=[
            DataRequired(message=MOTIF_INVALID),
            Length(min=MOTIF_MIN, max=MOTIF_MAX, message=MOTIF_INVALID),
        ],
    )


class PersonActionForm(_Form):
    """An action on one person (re-invite, unlock); ``email`` only says which diagnosis page to
    go back to, the person acted on is the one in the URL."""

    email = _email_field(required=True)


class _SearchForm(_Form):
    """A GET form: it reads and never writes, so it carries no CSRF token. Build it with
    ``formdata=request.args``; every field is optional (an empty form shows the form only)."""

    class Meta:
        csrf = False


class QueueFilterForm(_SearchForm):
    siren = _siren_field(required=False)
    lot = _lot_field(required=False)
    groupement = StringField(
        "Groupement",
        filters=[_clean_text],
        validators=[Optional(), Length(max=GROUPEMENT_MAX, message=GROUPEMENT_TOO_LONG)],
    )


class AdherentSearchForm(_SearchForm):
    siren = _siren_field(required=False)


class DiagnosisForm(_SearchForm):
    email = _email_field(required=False)


class HistoryForm(_SearchForm):
    email = _email_field(required=False)
    siren = _siren_field(required=False)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if self.email.data and self.siren.data:
            self.form_errors.append(HISTORY_ONE_CRITERION)
            return False
        return valid
