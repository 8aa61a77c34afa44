"""Suivi des activations d'un groupement, for its coordinators and support.

Every route is :func:`portal.web.guards.staff_required` (support or coordinator, asked to Keycloak
each time) and, for one groupement, ``current_staff().require(code)``: a coordinator of another
groupement gets 403. Re-sending the invitations is
:func:`portal.core.services.follow_up.reinvite_all`.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    # Flask's view helpers, imported the same way by every area's views.
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from portal.core.dates import date_paris
from portal.core.domain import Person
from portal.core.services.follow_up import FollowUp, Line, follow_up, reinvite_all
from portal.web.fields import ConfirmForm
from portal.web.gateway import get_gateway
from portal.web.guards import current_staff, staff_required
from portal.web.pages import abuse_limits
from portal.web.public_url import external_url

bp = Blueprint("suivi", __name__, url_prefix="/coordination", template_folder="templates")

IMPORT_ENDPOINT = "imports.televerser"
CSV_HEADERS = (
    "Lot",
    "SIREN",
    "Raison sociale",
    "Nom",
    "Prénom",
    "E-mail",
    "Interlocuteur principal",
    "État",
    "Invitation envoyée le",
    "Invitation valable jusqu'au",
    "Activé le",
    "CGU acceptées le",
    "Version des CGU acceptée",
    "Dernière connexion",
)


def _follow_up(code: str) -> FollowUp:
    current_staff().require(code)
    found = follow_up(get_gateway(), code)
    if found is None:
        abort(404)
    return found


def terms_text(person: Person, current_version: str | None = None) -> str:
    """« acceptées le … (version …) », « non acceptées », and whether it is not the version in
    force (the person accepts the new one at the next sign-in)."""
    if person.terms_accepted_at is None:
        return "non acceptées"
    version = f" (version {person.terms_version})" if person.terms_version else ""
    text = f"acceptées le {date_paris(person.terms_accepted_at)}{version}"
    if current_version and person.terms_version != current_version:
        text += f" ; pas la version en vigueur ({current_version})"
    return text


@bp.get("/")
@staff_required
def groupements() -> ResponseReturnValue:
    return render_template(
        "suivi/groupements.html", groupements=current_staff().visible(get_gateway())
    )


@bp.get("/<code>/")
@staff_required
def groupement(code: str) -> ResponseReturnValue:
    current_staff().require(code)
    non_actives = request.args.get("non_actives") == "1"
    import_url = (
        url_for(IMPORT_ENDPOINT, groupement=code)
        if IMPORT_ENDPOINT in current_app.view_functions
        else None
    )
    # A groupement of 300 people takes milliseconds of Python to lay out: the lots are rendered
    # once per change of the realm (read_cache's generation), the page around them per viewer.
    lots = get_gateway().derived(("suivi", code, non_actives), lambda: _lots(code, non_actives))
    return render_template(
        "suivi/groupement.html",
        code=code,
        non_actives=non_actives,
        import_url=import_url,
        lots=lots,
    )


def _lots(code: str, non_actives: bool) -> Markup:
    suivi = _follow_up(code)
    html = render_template(
        "suivi/_lots.html", suivi=suivi, non_actives=non_actives, terms_text=terms_text
    )
    return Markup(html)  # noqa: S704 (Jinja's output, escaped as it was rendered)


@bp.get("/<code>/export.csv")
@staff_required
def export(code: str) -> ResponseReturnValue:
    suivi = _follow_up(code)
    non_actives = request.args.get("non_actives") == "1"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for lot in suivi.lots:
        for line in suivi.lines_of(lot, non_actives):
            writer.writerow([csv_cell(cell) for cell in _csv_row(line)])
    name = f"suivi-activations-{code}{'-non-actives' if non_actives else ''}.csv"
    return Response(
        # The BOM makes spreadsheet software read the file as UTF-8.
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv_row(line: Line) -> list[str]:
    person, invitation = line.person, line.person.invitation
    return [
        line.lot,
        line.adherent.siren,
        line.adherent.name,
        person.last_name,
        person.first_name,
        person.email,
        "oui" if line.principal else "non",
        line.state.label,
        _csv_date(invitation.sent_at if invitation else None),
        _csv_date(invitation.expires_at if invitation else None),
        _csv_date(line.account.activated_at),
        _csv_date(person.terms_accepted_at),
        person.terms_version or "",
        _csv_date(line.account.last_login),
    ]


#: What a spreadsheet reads as the start of a formula (OWASP « CSV injection »).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it as text: a cell that begins like a formula gets a
    leading single quote. Applied to every cell alike (an e-mail may begin with ``+`` or ``-``,
    a raison sociale with ``=``), at the price of a quote before such rare plain values."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_date(value: datetime | None) -> str:
    return date_paris(value) if value else ""


@bp.get("/<code>/relancer")
@staff_required
def relancer(code: str) -> ResponseReturnValue:
    suivi = _follow_up(code)
    return render_template(
        "suivi/relancer.html", code=code, people=suivi.to_reinvite(), form=ConfirmForm()
    )


@bp.post("/<code>/relancer")
@staff_required
def relancer_confirme(code: str) -> ResponseReturnValue:
    current_staff().require(code)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    suivi = _follow_up(code)
    done = reinvite_all(
        get_gateway(),
        suivi,
        current_staff().email,
        external_url("auth.login"),
        abuse_limits(),
    )
    flash(done.done_message(), "info")
    for problem in done.problems():
        flash(problem, "erreur")
    return redirect(url_for(".groupement", code=code))
