"""Forms of the member space (and of the SIREN/lot pages support also serves), with their French
messages shown next to their field."""

from __future__ import annotations

from typing import Any

from wtforms import SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.domain import ContactDetails, Function
from portal.core.validation import parse_scope
from portal.web.fields import BaseForm, ContactForm, PersonForm

#: The functions a technical or billing contact may hold (value, label).
FONCTIONS: tuple[tuple[str, str], ...] = (
    (Function.TECHNIQUE.value, Function.TECHNIQUE.label),
    (Function.FACTURATION.value, Function.FACTURATION.label),
)

FONCTIONS_REQUIRED = "Cochez au moins une fonction."
FONCTION_UNKNOWN = "Choisissez parmi les fonctions proposées."
PERIMETRE_REQUIRED = "Choisissez le SIREN et le lot concernés."
PERIMETRE_NOT_OFFERED = "Choisissez un SIREN et un lot parmi ceux proposés."
PERIMETRE_INVALID = (
    "Ce couple SIREN/lot n’est pas valide (clé de contrôle du SIREN ou lot incorrect)."
)


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

    # Same shape as _FonctionsField.pre_validate: WTForms' hook, each with its own messages.
    def pre_validate(self, form: Any) -> None:
        if not self.data:
            raise StopValidation(PERIMETRE_REQUIRED)
        try:
            super().pre_validate(form)
        except ValidationError:
            raise StopValidation(PERIMETRE_NOT_OFFERED) from None


def _valid_perimetre(form: Any, field: Any) -> None:
    if parse_scope(field.data) is None:
        raise ValidationError(PERIMETRE_INVALID)


class _FunctionsForm(BaseForm):
    fonctions = _FunctionsField(
        "Fonction(s)", choices=[SelectChoice(value, label) for value, label in FONCTIONS]
    )

    def selected_functions(self) -> frozenset[str]:
        """The checked functions, among "technique" and "facturation"."""
        return frozenset(self.fonctions.data or ())


class TechnicalBillingContactForm(ContactForm, _FunctionsForm):
    """A new technical and/or billing contact."""


class EditContactForm(PersonForm, _FunctionsForm):
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
        chosen = parse_scope(self.perimetre.data or "")
        if chosen is None:
            raise RuntimeError("selected_perimetre() needs a form that has validated")
        return chosen
