"""What the form tests share (test_contact_form.py, test_espace_forms.py): a valid contact,
the French messages of the contact fields, and the helpers that submit a form."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Flask
from flask_wtf import FlaskForm

F = TypeVar("F", bound=FlaskForm)

CONTACT: dict[str, str] = {
    "nom": "Dupont",
    "prenom": "Marie",
    "email": "marie.dupont@demoville.fr",
    "telephone_fixe": "01 23 45 67 89",
}

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
