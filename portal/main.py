"""Public pages: home and sign-in help."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from portal.auth import current_user

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    return render_template("main/accueil.html", user=current_user())


@bp.get("/aide/connexion")
def aide_connexion() -> ResponseReturnValue:
    return render_template("main/aide_connexion.html")
