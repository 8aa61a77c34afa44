"""Forms of the support console, with their French messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.validation import EMAIL_MAX, EMAIL_TOO_LONG, clean_text
from portal.web.fields import (
    BaseForm,
    ScopedContactForm,
    email_field,
    lot_field,
    siren_field,
    strip_spaces,
    valid_email,
)

GROUPEMENT_MAX = 100
GROUPEMENT_TOO_LONG = f"Le groupement ne doit pas dépasser {GROUPEMENT_MAX} caractères."
MOTIF_MIN, MOTIF_MAX = 3, 500
MOTIF_INVALID = f"Indiquez le motif du refus ({MOTIF_MIN} à {MOTIF_MAX} caractères)."
HISTORY_ONE_CRITERION = "Indiquez soit une adresse e-mail, soit un SIREN, pas les deux."
NEW_EMAIL_REQUIRED = "Indiquez la nouvelle adresse e-mail."
EMAIL_SAME = "C’est déjà l’adresse e-mail de cette personne : rien n’a été modifié."
EMAIL_NOTICE_FAILED = (
    "L’avis de sécurité n’a pas pu être envoyé aux deux adresses (messagerie indisponible) : "
    "prévenez la personne vous-même."
)
#: Says the address is taken, never by whom.
EMAIL_TAKEN = (
    "Cette adresse e-mail est déjà utilisée par un autre compte de la plateforme : "
    "rien n’a été modifié. Indiquez une autre adresse."
)
STAFF_EMAIL = (
    "L’adresse e-mail d’un membre du personnel (support, coordonnateur) ne se change pas depuis "
    "le portail : un administrateur de la plateforme s’en charge."
)


class CollectionContactForm(ScopedContactForm):
    """Support adds a collection contact to one SIREN/lot directly."""


class RefusalForm(BaseForm):
    """Support refuses a request, saying why (the member reads the reason)."""

    motif = TextAreaField(
        "Motif du refus",
        filters=[strip_spaces],
        validators=[
            DataRequired(message=MOTIF_INVALID),
            Length(min=MOTIF_MIN, max=MOTIF_MAX, message=MOTIF_INVALID),
        ],
    )


class PersonActionForm(BaseForm):
    """An action on one person (re-invite, unlock); ``email`` only says which diagnosis page to
    go back to, the person acted on is the one in the URL."""

    email = email_field(required=True)


# One form per action, alike in shape (a label, filters and French validators).
class EmailChangeForm(BaseForm):
    """The person's new e-mail address, typed by support."""

    email = EmailField(
        "Nouvelle adresse e-mail",
        filters=[strip_spaces],
        validators=[
            DataRequired(message=NEW_EMAIL_REQUIRED),
            Length(max=EMAIL_MAX, message=EMAIL_TOO_LONG),
            valid_email,
        ],
        render_kw={"autocomplete": "off"},
    )


# --- searches ---------------------------------------------------------------------------------


class _SearchForm(BaseForm):
    """A GET form: it reads and never writes, so it carries no CSRF token. Build it with
    ``formdata=request.args``; every field is optional (an empty form shows the form only)."""

    class Meta:
        csrf = False


class QueueFilterForm(_SearchForm):
    siren = siren_field(required=False)
    lot = lot_field(required=False)
    groupement = StringField(
        "Groupement",
        filters=[clean_text],
        validators=[Optional(), Length(max=GROUPEMENT_MAX, message=GROUPEMENT_TOO_LONG)],
    )


class AdherentSearchForm(_SearchForm):
    siren = siren_field(required=False)


class DiagnosisForm(_SearchForm):
    email = email_field(required=False)


class HistoryForm(_SearchForm):
    email = email_field(required=False)
    siren = siren_field(required=False)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if self.email.data and self.siren.data:
            self.form_errors.append(HISTORY_ONE_CRITERION)
            return False
        return valid
