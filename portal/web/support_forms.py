"""Forms of support's actions on a person's account, with their French messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from portal.core.validation import EMAIL_MAX, EMAIL_TOO_LONG
from portal.web.forms import strip_spaces, valid_email

NEW_EMAIL_REQUIRED = "Indiquez la nouvelle adresse e-mail."
EMAIL_SAME = "C’est déjà l’adresse e-mail de cette personne : rien n’a été modifié."
#: Says the address is taken, never by whom.
EMAIL_TAKEN = (
    "Cette adresse e-mail est déjà utilisée par un autre compte de la plateforme : "
    "rien n’a été modifié. Indiquez une autre adresse."
)
STAFF_EMAIL = (
    "L’adresse e-mail d’un membre du personnel (support, coordonnateur) ne se change pas depuis "
    "le portail : un administrateur de la plateforme s’en charge."
)


class EmailChangeForm(FlaskForm):  # type: ignore[misc]
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
