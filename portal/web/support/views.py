"""Console du support : demandes d'interlocuteurs de collecte, ajout direct, invitations, pages de
n'importe quel adhérent, « pourquoi ne peut-elle pas se connecter ? » et historique.

Every page asks Keycloak, for each request, whether the signed-in person holds the realm role
``support`` (:func:`portal.web.guards.support_required`); the :class:`SupportDesk` of the request
is kept in ``flask.g``. Views stay thin: validate the form, call the desk, turn known errors into
field errors, flash and redirect. Errors the desk raises are mapped in :mod:`portal.web.errors`
(:class:`NotSupport` 403, :class:`InvitationNotSent` 503, an unknown person or request 404).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from portal.core.abuse_limits import LimitReached
from portal.core.dates import date_paris
from portal.core.domain import Person, Scope
from portal.core.keycloak.gateway import Grant, UnknownAdherent
from portal.core.keycloak.support_admin import EmailTaken
from portal.core.notify import Mailer, NotificationFailed
from portal.core.services.diagnostic import conditions, verdict
from portal.core.services.member_space import Member, MemberSpace
from portal.core.services.support_desk import (
    LotNotInContract,
    NotCollectionContact,
    NotSupport,
    Revocation,
    SameEmail,
    StaffEmail,
    SupportDesk,
)
from portal.web.auth import current_user
from portal.web.fields import ConfirmForm
from portal.web.gateway import get_gateway
from portal.web.guards import current_desk, support_required
from portal.web.pages import form_page, get_only
from portal.web.space import initial_values, space_blueprint, url_id, url_scope
from portal.web.support.forms import (
    EMAIL_NOTICE_FAILED,
    EMAIL_SAME,
    EMAIL_TAKEN,
    STAFF_EMAIL,
    AdherentSearchForm,
    CollectionContactForm,
    DiagnosisForm,
    EmailChangeForm,
    HistoryForm,
    PersonActionForm,
    QueueFilterForm,
    RefusalForm,
)

bp = Blueprint("support", __name__, url_prefix="/support", template_folder="templates")

UNKNOWN_SIREN = "Aucun adhérent n'a ce SIREN."
LOT_NOT_IN_CONTRACT = "Cet adhérent n'est pas concerné par ce lot."
ACCEPT_UNKNOWN_ADHERENT = (
    "La demande n'a pas été acceptée : aucun adhérent n'a plus ce SIREN. Rien n'a été modifié."
)
REFUSAL_NOT_TOLD = (
    "L’e-mail qui en informe la personne n’a pas pu être envoyé (messagerie indisponible) : "
    "prévenez-la vous-même."
)
#: Query parameters that pre-fill the direct form (links from a SIREN/lot page or a diagnosis).
PREFILLED = ("nom", "prenom", "email", "telephone_fixe", "telephone_mobile", "siren", "lot")


# --- access -----------------------------------------------------------------------------------


def _support_space(scope: Scope | None = None) -> MemberSpace:
    """Support works on any adherent's technical and billing contacts, as itself (``scope``:
    the page's SIREN/lot; the space reads its people when the page lists them)."""
    user = current_user()
    if user is None:
        raise NotSupport("signed out")
    person = Person(user.sub, user.email, user.given_name, user.family_name)
    return MemberSpace(get_gateway(), Member(person, scopes=(), unrestricted=True))


bp.register_blueprint(
    space_blueprint("adherent", "/adherents", support_required, _support_space, for_support=True)
)


# --- messages ---------------------------------------------------------------------------------


def granted_message(grant: Grant, scope: Scope, first: str) -> str:
    """What granting the collection function did; ``first``: how it came about."""
    parts = [f"{first} : {grant.person.email} est interlocuteur de collecte pour {scope}."]
    if grant.invitation is not None:
        until = date_paris(grant.invitation.expires_at)
        parts.append(f"Invitation envoyée, valable jusqu'au {until}.")
    else:
        parts.append("Son espace Client est déjà activé : aucune invitation nécessaire.")
    if grant.made_principal:
        parts.append("Il devient l'interlocuteur principal de ce SIREN et de ce lot.")
    return " ".join(parts)


# --- the queue of requests --------------------------------------------------------------------


def _queue_page(refusal: RefusalForm | None = None, refused: str = "") -> ResponseReturnValue:
    """The pending requests, filtered by the query string; ``refusal``: a refusal that did not
    go through, shown with its error in the row of request ``refused``."""
    filtre = QueueFilterForm(formdata=request.args)
    items = None
    if filtre.validate():
        items = current_desk().queue(
            filtre.siren.data or None, filtre.lot.data or None, filtre.groupement.data or None
        )
    blank = RefusalForm(formdata=None)
    return form_page(
        "support/demandes.html",
        refusal or blank,
        blank=blank,
        refused=refused,
        filtre=filtre,
        items=items,
    )


@bp.get("/")
@support_required
def demandes() -> ResponseReturnValue:
    return _queue_page()


@bp.post("/demandes/<person_id>/<request_id>/accepter")
@support_required
def accepter(person_id: str, request_id: str) -> ResponseReturnValue:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        grant = current_desk().accept(url_id(person_id), url_id(request_id))
    except UnknownAdherent:
        flash(ACCEPT_UNKNOWN_ADHERENT, "erreur")
    except LimitReached as reached:
        flash(f"La demande n'a pas été acceptée. {reached.message}", "erreur")
    else:
        scope = next(r.scope for r in grant.person.requests if r.id == request_id)
        flash(granted_message(grant, scope, "Demande acceptée"), "info")
    return redirect(url_for(".demandes"))


@bp.post("/demandes/<person_id>/<request_id>/refuser")
@support_required
def refuser(person_id: str, request_id: str) -> ResponseReturnValue:
    person_id, request_id = url_id(person_id), url_id(request_id)
    form = RefusalForm()
    if not form.validate_on_submit():
        return _queue_page(form, request_id)
    try:
        current_desk().refuse(person_id, request_id, form.motif.data, Mailer(current_app.config))
    except NotificationFailed:
        flash(f"Demande refusée. {REFUSAL_NOT_TOLD}", "erreur")
    else:
        flash("Demande refusée.", "info")
    return redirect(url_for(".demandes"))


# --- a collection contact added directly ------------------------------------------------------


@bp.route("/interlocuteurs/nouveau", methods=["GET", "POST"])
@support_required
def nouvel_interlocuteur() -> ResponseReturnValue:
    initial = {name: request.args[name] for name in PREFILLED if name in request.args}
    form = CollectionContactForm(data=get_only(initial))
    if form.validate_on_submit():
        scope = form.selected_scope()
        try:
            grant = current_desk().add_collection_contact(form.contact_data(), scope)
        except UnknownAdherent:
            form.siren.errors.append(UNKNOWN_SIREN)
        except LotNotInContract:
            form.lot.errors.append(LOT_NOT_IN_CONTRACT)
        except LimitReached as reached:
            form.email.errors.append(reached.message)
        else:
            flash(granted_message(grant, scope, "Interlocuteur de collecte ajouté"), "info")
            return redirect(url_for(".diagnostic", email=grant.person.email))
    return form_page("support/interlocuteur.html", form)


# --- adherents --------------------------------------------------------------------------------


@bp.get("/adherents")
@support_required
def adherents() -> ResponseReturnValue:
    form = AdherentSearchForm(formdata=request.args)
    adherent = None
    if form.validate() and form.siren.data:
        adherent = current_desk().gateway.adherent(form.siren.data)
        if adherent is None:
            form.siren.errors.append(UNKNOWN_SIREN)
    return render_template("support/adherents.html", form=form, adherent=adherent)


# --- why can't they sign in? ------------------------------------------------------------------


@bp.get("/diagnostic")
@support_required
def diagnostic() -> ResponseReturnValue:
    form = DiagnosisForm(formdata=request.args)
    context: dict[str, Any] = {}
    if form.validate() and form.email.data:
        found = current_desk().diagnose(form.email.data)
        rows = conditions(found)
        context = {
            "diagnosis": found,
            "conditions": rows,
            "verdict": verdict(found, rows),
            "ajout": _prefill_from(found.person) if found.person else {},
        }
    return render_template("support/diagnostic.html", form=form, **context)


def _prefill_from(person: Person) -> dict[str, str]:
    """Query parameters pre-filling the direct form with what is known of the person."""
    return {name: value for name, value in initial_values(person).items() if value}


def _on_person(person_id: str, act: Callable[[SupportDesk, str], str]) -> ResponseReturnValue:
    """Do ``act`` on the person of the URL, flash what it says, back to their diagnosis."""
    form = PersonActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        flash(act(current_desk(), url_id(person_id)), "info")
    except LimitReached as reached:
        flash(reached.message, "erreur")
    return redirect(url_for(".diagnostic", email=form.email.data))


def _reinvite(support: SupportDesk, person_id: str) -> str:
    until = date_paris(support.reinvite(person_id).expires_at)
    return (
        f"Nouvelle invitation envoyée, valable jusqu'au {until} ; "
        "les liens précédents ne fonctionnent plus."
    )


def _unlock(support: SupportDesk, person_id: str) -> str:
    support.unlock(person_id)
    return "Compte déverrouillé."


@bp.post("/personnes/<person_id>/reinviter")
@support_required
def reinviter(person_id: str) -> ResponseReturnValue:
    return _on_person(person_id, _reinvite)


@bp.post("/personnes/<person_id>/deverrouiller")
@support_required
def deverrouiller(person_id: str) -> ResponseReturnValue:
    return _on_person(person_id, _unlock)


# --- withdrawing a collection function -------------------------------------------------------


def revoked_message(done: Revocation) -> str:
    person, scope = done.person, done.scope
    parts = [
        f"Fonction d'interlocuteur de collecte retirée : {person.email} n'est plus "
        f"interlocuteur de collecte pour {scope}."
    ]
    if done.principal:
        parts.append("Il reste interlocuteur principal affiché, sans accès.")
    if done.last_function:
        parts.append("Il n'a plus accès à la plateforme de collecte.")
    return " ".join(parts)


@bp.route("/personnes/<person_id>/collecte/<siren>/<lot>/retirer", methods=["GET", "POST"])
@support_required
def retirer_collecte(person_id: str, siren: str, lot: str) -> ResponseReturnValue:
    """GET: what will happen, and the confirmation button; POST (CSRF): done, in one write."""
    person_id, scope = url_id(person_id), url_scope(siren, lot)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            done = current_desk().revoke_collection(person_id, scope)
        except NotCollectionContact as already:
            message = (
                f"{already.person.email} n'est déjà plus interlocuteur de collecte pour {scope} : "
                "rien n'a été modifié."
            )
            flash(message, "info")
            return redirect(url_for(".diagnostic", email=already.person.email))
        flash(revoked_message(done), "info")
        return redirect(url_for(".diagnostic", email=done.person.email))
    try:
        plan = current_desk().revocation(person_id, scope)
    except NotCollectionContact:
        abort(404)
    return render_template("support/retrait_collecte.html", revocation=plan, form=form)


# --- changing a person's e-mail ---------------------------------------------------------------


@bp.route("/personnes/<person_id>/email", methods=["GET", "POST"])
@support_required
def changer_email(person_id: str) -> ResponseReturnValue:
    form = EmailChangeForm()
    try:
        person = current_desk().check_email_change(url_id(person_id))
    except StaffEmail:  # said on the page, and a POST writes nothing (422)
        return form_page("support/email.html", form, person=None, staff_message=STAFF_EMAIL)
    if form.validate_on_submit():
        try:
            changed = current_desk().change_email(person, form.email.data)
        except SameEmail:
            form.email.errors.append(EMAIL_SAME)
        except EmailTaken:
            form.email.errors.append(EMAIL_TAKEN)
        else:
            flash(
                f"Adresse e-mail changée : {changed.email}. La personne doit la confirmer : à sa "
                "prochaine connexion, un lien de confirmation lui est envoyé à cette adresse. "
                "L'ancienne adresse ne permet plus de se connecter.",
                "info",
            )
            try:
                Mailer(current_app.config).email_changed(
                    person.email, changed.email, date_paris(datetime.now(UTC))
                )
            except NotificationFailed:
                current_app.logger.warning("Email change notice not sent", exc_info=True)
                flash(EMAIL_NOTICE_FAILED, "erreur")
            return redirect(url_for(".diagnostic", email=changed.email))
    return form_page("support/email.html", form, person=person, staff_message=None)


# --- history ----------------------------------------------------------------------------------


@bp.get("/historique")
@support_required
def historique() -> ResponseReturnValue:
    form = HistoryForm(formdata=request.args)
    entries = None
    if form.validate():
        if form.email.data:
            entries = current_desk().history_of_person(form.email.data)
        elif form.siren.data:
            entries = current_desk().history_of_siren(form.siren.data)
    return render_template("support/historique.html", form=form, entries=entries)
