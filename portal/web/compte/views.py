"""« Mon compte » (`/compte/`), for anyone signed in: who they are for the platform, their
Keycloak sessions (each closable), and the ways to change their password or add a second factor
— on Keycloak's own pages, through application-initiated actions (`/compte/keycloak/<action>`,
portal.web.auth). Keycloak's account console is closed (provisioning): this page replaces it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue

from portal.core.services.account import Account, UnknownSession
from portal.web.auth import KEYCLOAK_SID_KEY, current_user
from portal.web.fields import ConfirmForm
from portal.web.gateway import get_gateway
from portal.web.guards import login_required

bp = Blueprint("compte", __name__, url_prefix="/compte", template_folder="templates")

CLOSED = "Session fermée : l’appareil qui l’utilisait devra se reconnecter."
UNKNOWN = "Cette session n’existe plus : rien n’a été fermé."


def _account() -> Account:
    user = current_user()
    assert user is not None  # login_required
    return Account(get_gateway(), user.sub)


@bp.get("/")
@login_required
def accueil() -> ResponseReturnValue:
    user = current_user()
    return render_template(
        "compte/compte.html",
        user=user,
        person=get_gateway().person(user.sub) if user else None,
        sessions=_account().sessions(),
        current=session.get(KEYCLOAK_SID_KEY),
    )


@bp.post("/sessions/<session_id>/fermer")
@login_required
def fermer(session_id: str) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        _account().close(session_id)
    except UnknownSession:
        flash(UNKNOWN, "erreur")
    else:
        flash(CLOSED, "info")
    return redirect(url_for("compte.accueil"), 303)
