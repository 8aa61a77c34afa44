"""Public pages: home and sign-in help, with « Je ne parviens pas à me connecter » and the
« demande sans compte ».

Both public forms always answer the same thing, in the same time: the request does no more than
check the abuse limits (per typed address and per client, never per account) and enqueue the
work, which the task queue's consumer does against Keycloak — the diagnosis mailed to a known
address only (:mod:`portal.core.services.self_help`), the request recorded in support's queue
only for a lot of an adherent (:mod:`portal.core.services.accountless`).
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
from portal.core.domain import ContactDetails, Scope
from portal.core.notify import Mailer
from portal.core.services.accountless import AccountlessRequests
from portal.core.services.self_help import SelfHelp
from portal.web import task_queue
from portal.web.auth import STAFF_KEY, SUPPORT_KEY, current_user
from portal.web.gateway import get_gateway
from portal.web.main.forms import AccountlessRequestForm, SelfHelpForm
from portal.web.pages import abuse_limits, form_page
from portal.web.public_url import external_url

bp = Blueprint("main", __name__, template_folder="templates")

SENT = (
    "Demande enregistrée. Si cette adresse est connue de la plateforme, un e-mail vient de lui "
    "être envoyé : il indique ce qui empêche la connexion et la marche à suivre. Pensez à "
    "regarder dans les courriers indésirables."
)
RECORDED = (
    "Demande transmise. Si elle concerne un adhérent et un lot de la plateforme, le support la "
    "vérifie auprès du coordonnateur de votre groupement de commandes avant de l’accepter ; "
    "vous recevrez alors, à l’adresse indiquée, une invitation pour activer votre espace Client."
)
_TASK = "collecte.tasks.aide"
_ACCOUNTLESS_TASK = "collecte.tasks.sans-compte"


def init_app(app: Flask) -> None:
    """Register the self-help answer on the application's task queue."""

    def answer(email: str, login_url: str) -> None:
        with app.app_context():
            mailer = Mailer(current_app.config)
            SelfHelp(get_gateway(), mailer, abuse_limits(), login_url).answer(email)

    def record(details: ContactDetails, scope: Scope, queue_url: str) -> None:
        with app.app_context():
            mailer = Mailer(current_app.config)
            AccountlessRequests(get_gateway(), mailer, queue_url).record(details, scope)

    queue = task_queue.of(app)
    app.extensions[_TASK] = queue.task(name="aide-connexion")(answer)
    # Tried again when the mail to support fails (the request is then withdrawn meanwhile).
    app.extensions[_ACCOUNTLESS_TASK] = queue.task(
        name="demande-sans-compte", retries=3, retry_delay=60
    )(record)


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


@bp.route("/aide/demande-sans-compte", methods=["GET", "POST"])
def demande_sans_compte() -> ResponseReturnValue:
    form = AccountlessRequestForm()
    if form.validate_on_submit():
        details, scope = form.contact_data(), form.selected_scope()
        try:
            with (
                abuse_limits()
                .accountless_request(details.email, request.remote_addr or "")
                .around()
            ):
                current_app.extensions[_ACCOUNTLESS_TASK](
                    details, scope, external_url("support.demandes")
                )
        except LimitReached as refused:
            form.email.errors.append(str(refused))
        else:
            flash(RECORDED, "info")
            return redirect(url_for("main.demande_sans_compte"), 303)
    return form_page("main/demande_sans_compte.html", form)
