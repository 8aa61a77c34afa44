"""Import en masse des membres d'un groupement : `/coordination/<groupement>/import`.

Support or the groupement's coordinators (:func:`portal.web.guards.staff_required`). A file is
always checked first (dry run, nothing written) and its report shown; if no line is in error, the
file is kept in the task queue's store under a random token held in the session, and
« Confirmer l'import » takes it (once: it is removed on use), checks it again against what
Keycloak holds now, then hands it to the task queue (:mod:`portal.web.imports.jobs`: a large
file takes longer than gunicorn lets a request run) and redirects to the job's page
`/coordination/<groupement>/import/<job>`, which follows its progress and shows its outcome.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from portal.core.domain import Change
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.bulk import FileError, Kind, import_steps
from portal.web.fields import ConfirmForm
from portal.web.gateway import get_gateway
from portal.web.guards import current_staff, staff_required
from portal.web.imports import jobs
from portal.web.imports.forms import ImportForm
from portal.web.public_url import external_url

bp = Blueprint("imports", __name__, url_prefix="/coordination", template_folder="templates")

SESSION_KEY = "import_en_attente"
EXPIRED = "Le fichier à confirmer n’est plus disponible : déposez-le de nouveau."


def _discard_pending() -> None:
    pending = session.pop(SESSION_KEY, None)
    if pending:
        jobs.discard_upload(pending["jeton"])


@bp.route("/<groupement>/import", methods=["GET", "POST"])
@staff_required
def televerser(groupement: str) -> ResponseReturnValue:
    current_staff().require(groupement)
    gateway = get_gateway()
    if not gateway.groupement_exists(groupement):
        abort(404)
    form, confirm = ImportForm(), ConfirmForm(prefix="confirmation")
    context: dict[str, Any] = {
        "groupement": groupement,
        "form": form,
        "confirm": confirm,
        "recent": jobs.recent(groupement),
        "erreur": Kind.ERROR,
    }
    if request.method == "POST" and request.form.get("etape") == "confirmer":
        return _confirm(gateway, groupement, confirm, context)
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("imports/televerser.html", **context), status
    upload = form.fichier.data
    data, name = upload.read(), str(upload.filename or "")
    try:
        result = jobs.checked_plan(gateway, groupement, data, name)
    except FileError as error:
        form.fichier.errors.append(str(error))
        return render_template("imports/televerser.html", **context), 422
    _discard_pending()
    if result.plan is not None and not result.plan.empty:
        token = jobs.keep_upload(data)
        session[SESSION_KEY] = {"jeton": token, "groupement": groupement, "nom": name}
    return render_template("imports/televerser.html", result=result, fichier=name, **context)


def _confirm(
    gateway: KeycloakGateway, groupement: str, confirm: ConfirmForm, context: dict[str, Any]
) -> ResponseReturnValue:
    pending = session.get(SESSION_KEY)
    if not confirm.validate_on_submit() or not pending or pending["groupement"] != groupement:
        context["expired"] = EXPIRED
        return render_template("imports/televerser.html", **context), 409
    if (ongoing := jobs.running(groupement)) is not None:
        return _refused(ongoing, context)
    data = jobs.take_upload(pending["jeton"])
    session.pop(SESSION_KEY, None)
    if data is None:
        context["expired"] = EXPIRED
        return render_template("imports/televerser.html", **context), 409
    result = jobs.checked_plan(gateway, groupement, data, pending["nom"])
    if result.plan is None:  # something changed in Keycloak since the dry run
        return render_template("imports/televerser.html", result=result, **context), 409
    change = Change.now(current_staff().email, "import en masse")
    job, started = jobs.start(
        groupement,
        pending["nom"],
        data,
        external_url("auth.login"),
        change,
        import_steps(result.plan),
    )
    if not started:
        # another confirmation of the groupement won the race meanwhile: this file is kept
        session[SESSION_KEY] = {**pending, "jeton": jobs.keep_upload(data)}
        return _refused(job, context)
    # 303: the browser GETs the job's page, and reloading it never posts the confirmation again.
    return redirect(url_for("imports.tache", groupement=groupement, job_id=job.id), 303)


def _refused(ongoing: jobs.Job, context: dict[str, Any]) -> ResponseReturnValue:
    context["expired"] = (
        f"Un import est déjà en cours pour ce groupement (« {ongoing.file_name} », lancé par "
        f"{ongoing.started_by or 'un membre de l’équipe'}) : attendez qu’il soit terminé, "
        "puis confirmez de nouveau celui-ci."
    )
    context["en_cours"] = ongoing
    return render_template("imports/televerser.html", **context), 409


@bp.get("/<groupement>/import/<job_id>")
@staff_required
def tache(groupement: str, job_id: str) -> ResponseReturnValue:
    """A job's progress, refreshed by the page itself while it runs, then its outcome. Any staff
    member of the groupement may follow it; another groupement's job is "not found"."""
    current_staff().require(groupement)
    job = jobs.load(job_id)
    if job is None or job.groupement != groupement:
        abort(404)
    return render_template("imports/tache.html", groupement=groupement, job=job)
