"""Public pages: home and sign-in help, with « Je ne parviens pas à me connecter ».

The help page's form asks for an e-mail address and always answers the same thing, in the same
time: the request does no more than check the abuse limits (per typed address and per client,
never per account) and enqueue the answer (:mod:`portal.core.services.self_help`), which the task
queue's consumer reads from Keycloak and mails to a known address only.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from portal.core.abuse_limits import LimitReached
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.notify import Mailer
from portal.core.services.self_help import SelfHelp
from portal.web import task_queue
from portal.web.auth import STAFF_KEY, SUPPORT_KEY, current_user
from portal.web.gateway import changes
from portal.web.main.forms import SelfHelpForm
from portal.web.pages import abuse_limits, form_page
from portal.web.public_url import external_url

bp = Blueprint("main", __name__, template_folder="templates")

SENT = (
    "Demande enregistrée. Si cette adresse est connue de la plateforme, un e-mail vient de lui "
    "être envoyé : il indique ce qui empêche la connexion et la marche à suivre. Pensez à "
    "regarder dans les courriers indésirables."
)
_TASK = "collecte.tasks.aide"


def init_app(app: Flask) -> None:
    """Register the self-help answer on the application's task queue."""

    def answer(email: str, login_url: str) -> None:
        with app.app_context():
            config = current_app.config
            gateway = KeycloakGateway.from_config(config, on_write=changes().bump)
            limits = abuse_limits()
            SelfHelp(gateway, Mailer(config), limits, login_url).answer(email)

    app.extensions[_TASK] = task_queue.of(app).task(name="aide-connexion")(answer)


@bp.get("/")
def home() -> ResponseReturnValue:
    user = current_user()
    # The role itself is checked by every support page: this only decides whether to show the link.
    support = user is not None and session.get(SUPPORT_KEY) is True
    staff = support or (user is not None and session.get(STAFF_KEY) is True)
    return render_template("main/accueil.html", user=user, support=support, staff=staff)


@bp.route("/aide/connexion", methods=["GET", "POST"])
def aide_connexion() -> ResponseReturnValue:
    form = SelfHelpForm()
    if form.validate_on_submit():
        email = str(form.email.data).strip()
        try:
            with abuse_limits().self_help(email, request.remote_addr or "").around():
                current_app.extensions[_TASK](email, external_url("auth.login"))
        except LimitReached as refused:
            form.email.errors.append(str(refused))
        else:
            flash(SENT, "info")
            return redirect(url_for("main.aide_connexion", _anchor="je-ne-parviens-pas"), 303)
    return form_page("main/aide_connexion.html", form)
