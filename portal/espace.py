"""« Mon espace » : what a signed-in collection contact sees and manages.

Views stay thin: they validate the form, call :class:`MemberSpace` (built for each request from
what Keycloak says right now about the signed-in person), turn known errors into field errors,
flash and redirect. Every permission is checked by :class:`MemberSpace`; a SIREN/lot or a person
outside the member's own scopes is answered with the same 404 as one that does not exist
(:class:`NotAllowed` is mapped in :mod:`portal.errors`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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

from portal.auth import current_user, login_required
from portal.domain import NON_LOGIN_FUNCTIONS, Adherent, Function, Person, Scope
from portal.forms import (
    CollectionRequestForm,
    ConfirmForm,
    EditContactForm,
    TechnicalBillingContactForm,
    format_phone,
)
from portal.gateway import UnknownAdherent, get_gateway
from portal.member_space import AlreadyCollectionContact, MemberSpace, NotAllowed
from portal.notify import Mailer

bp = Blueprint("espace", __name__, url_prefix="/espace")

PARIS = ZoneInfo("Europe/Paris")
#: Keycloak user ids (UUIDs by default); anything else in a URL is simply "not found".
_PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:-]{0,127}")

ALREADY_COLLECTION_CONTACT = (
    "Cette personne est déjà interlocuteur de collecte pour ce SIREN et ce lot."
)
UNKNOWN_ADHERENT = (
    "Ce SIREN n’est rattaché à aucun adhérent de la plateforme : rien n’a été enregistré. "
    "Rapprochez-vous de votre coordonnateur du groupement."
)
PLACEHOLDER = ("", "Choisissez le SIREN et le lot")


def date_paris(value: datetime) -> str:
    """« 28/11/2026 à 16:50 (heure de Paris) »."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M (heure de Paris)")


bp.add_app_template_filter(format_phone, "telephone")
bp.add_app_template_filter(date_paris, "date_paris")


def scope_label(scope: Scope, adherents: Mapping[str, Adherent | None]) -> str:
    """« SIREN 213500010 — Commune de Démoville — lot 1 » (no name when the adherent is unknown)."""
    adherent = adherents.get(scope.siren)
    name = [adherent.name] if adherent and adherent.name else []
    return " — ".join([f"SIREN {scope.siren}", *name, f"lot {scope.lot}"])


# --- per-request helpers ----------------------------------------------------------------------


def _space() -> MemberSpace:
    user = current_user()
    if user is None:  # login_required has already sent signed-out users to sign in
        raise NotAllowed("signed out")
    return MemberSpace.for_person(get_gateway(), user.sub)


def _scope(siren: str, lot: str) -> Scope:
    scope = Scope.parse(f"{siren}/{lot}")
    if scope is None:
        abort(404)
    return scope


def _member_scope(siren: str, lot: str) -> tuple[MemberSpace, Scope]:
    """The member's space and one of their own scopes (else 404)."""
    scope = _scope(siren, lot)
    space = _space()
    space.member.require(scope)
    return space, scope


def _person_id(value: str) -> str:
    if not _PERSON_ID.fullmatch(value):
        abort(404)
    return value


def _to_scope(scope: Scope, message: str) -> ResponseReturnValue:
    flash(message, "info")
    return redirect(url_for("espace.perimetre", siren=scope.siren, lot=scope.lot))


def _form_page(template: str, form: Any, **context: Any) -> ResponseReturnValue:
    """The form again: 422 when a POST did not go through (nothing was written)."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def _initial(person: Person, scope: Scope | None = None) -> dict[str, Any]:
    """A form's initial values from a person (phones as people write them)."""
    data: dict[str, Any] = {
        "nom": person.last_name,
        "prenom": person.first_name,
        "email": person.email,
        "telephone_fixe": format_phone(person.phone_fixe) if person.phone_fixe else "",
        "telephone_mobile": format_phone(person.phone_mobile) if person.phone_mobile else "",
    }
    if scope is not None:
        data["fonctions"] = [f.value for f in NON_LOGIN_FUNCTIONS if person.holds(f, scope)]
    return data


def _functions(form: Any) -> frozenset[Function]:
    return frozenset(Function(value) for value in form.selected_functions())


def _get_only(data: dict[str, Any]) -> dict[str, Any] | None:
    """Initial values apply to the first display; a POST is read from what was posted only."""
    return data if request.method == "GET" else None


# --- views --------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def accueil() -> ResponseReturnValue:
    space = _space()
    adherents = space.adherents()
    perimetres = [(scope, scope_label(scope, adherents)) for scope in space.member.scopes]
    return render_template("espace/accueil.html", person=space.member.person, perimetres=perimetres)


@bp.get("/<siren>/<lot>/")
@login_required
def perimetre(siren: str, lot: str) -> ResponseReturnValue:
    space, scope = _member_scope(siren, lot)
    contacts = space.contacts(scope)
    return render_template(
        "espace/perimetre.html",
        contacts=contacts,
        scope=scope,
        titre=scope_label(scope, {scope.siren: contacts.adherent}),
        collecte=Function.COLLECTE,
    )


@bp.route("/<siren>/<lot>/contacts/nouveau", methods=["GET", "POST"])
@login_required
def nouveau_contact(siren: str, lot: str) -> ResponseReturnValue:
    space, scope = _member_scope(siren, lot)
    form = TechnicalBillingContactForm()
    if form.validate_on_submit():
        try:
            space.add_contact(scope, form.contact_data(), _functions(form))
        except UnknownAdherent:
            form.form_errors.append(UNKNOWN_ADHERENT)
        else:
            return _to_scope(scope, "Contact enregistré.")
    return _form_page("espace/contact.html", form, scope=scope, person=None)


@bp.route("/<siren>/<lot>/contacts/<person_id>/modifier", methods=["GET", "POST"])
@login_required
def modifier_contact(siren: str, lot: str, person_id: str) -> ResponseReturnValue:
    space, scope = _member_scope(siren, lot)
    person = space.contact(scope, _person_id(person_id))
    form = EditContactForm(data=_get_only(_initial(person, scope)))
    if form.validate_on_submit():
        space.edit_contact(scope, person.id, form.contact_data(person.email), _functions(form))
        return _to_scope(scope, "Contact modifié.")
    return _form_page("espace/contact.html", form, scope=scope, person=person)


@bp.post("/<siren>/<lot>/contacts/<person_id>/retirer")
@login_required
def retirer_contact(siren: str, lot: str, person_id: str) -> ResponseReturnValue:
    space, scope = _member_scope(siren, lot)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    space.remove_contact(scope, _person_id(person_id))
    return _to_scope(scope, "Contact retiré.")


@bp.route("/demandes/nouvelle", methods=["GET", "POST"])
@login_required
def nouvelle_demande() -> ResponseReturnValue:
    space = _space()
    scopes = space.member.scopes
    wanted = Scope.parse(request.args.get("perimetre", ""))
    initial: dict[str, Any] = {}
    personne = request.args.get("personne")
    if personne is not None and request.method == "GET":
        if wanted is None:
            abort(404)
        initial = _initial(space.contact(wanted, _person_id(personne)))
    if wanted in scopes:
        initial["perimetre"] = str(wanted)

    adherents = space.adherents()
    choices = [(str(scope), scope_label(scope, adherents)) for scope in scopes]
    if len(choices) > 1:
        choices.insert(0, PLACEHOLDER)
    form = CollectionRequestForm(choices, data=_get_only(initial))
    if form.validate_on_submit():
        scope = Scope(*form.selected_perimetre())
        queue_url = url_for("espace.perimetre", siren=scope.siren, lot=scope.lot, _external=True)
        try:
            space.request_collection_contact(
                scope, form.contact_data(), Mailer(current_app.config), queue_url
            )
        except AlreadyCollectionContact:
            form.email.errors.append(ALREADY_COLLECTION_CONTACT)
        except UnknownAdherent:
            form.form_errors.append(UNKNOWN_ADHERENT)
        else:
            return _to_scope(
                scope, "Demande transmise au support : vous pouvez suivre son état ci-dessous."
            )
    return _form_page("espace/demande.html", form, has_scopes=bool(scopes))
