"""Public pages: home and sign-in help."""

from __future__ import annotations

from flask import Blueprint, render_template, session
from flask.typing import ResponseReturnValue

from portal.web.auth import STAFF_KEY, SUPPORT_KEY, current_user

bp = Blueprint("main", __name__, template_folder="templates")


@bp.get("/")
def home() -> ResponseReturnValue:
    user = current_user()
    # The role itself is checked by every support page: this only decides whether to show the link.
    support = user is not None and session.get(SUPPORT_KEY) is True
    staff = support or (user is not None and session.get(STAFF_KEY) is True)
    return render_template("main/accueil.html", user=user, support=support, staff=staff)


@bp.get("/aide/connexion")
def aide_connexion() -> ResponseReturnValue:
    return render_template("main/aide_connexion.html")
