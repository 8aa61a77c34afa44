"""« Mon espace » : what a signed-in collection contact sees and manages.

Views stay thin: they validate the form, call :class:`MemberSpace` (built for each request from
what Keycloak says right now about the signed-in person), turn known errors into field errors,
flash and redirect. Every permission is checked by :class:`MemberSpace`; a SIREN/lot or a person
outside the member's own scopes is answered with the same 404 as one that does not exist
(:class:`NotAllowed` is mapped in :mod:`portal.web.errors`).

The pages of one SIREN/lot are built by :func:`space_blueprint`, so that the support console
serves the same views for any adherent (``/support/adherents/<siren>/<lot>/…``, see
:mod:`portal.web.support`); templates link within the blueprint serving the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
from portal.core.domain import NON_LOGIN_FUNCTIONS, Function, Person, Scope
from portal.core.keycloak.gateway import UnknownAdherent
from portal.core.notify import Mailer
from portal.core.services.member_space import (
    AlreadyCollectionContact,
    MemberSpace,
    NotAllowed,
    ProtectedAddress,
)
from portal.web.auth import current_user, login_required
from portal.web.forms import (
    CollectionRequestForm,
    ConfirmForm,
    EditContactForm,
    TechnicalBillingContactForm,
    format_phone,
)
from portal.web.gateway import get_gateway
from portal.web.pages import abuse_limits, form_page, get_only, here, scope_label
from portal.web.public_url import external_url

View = Callable[..., ResponseReturnValue]
#: What stands before every view of a blueprint: sign-in, and for support the role check.
Guard = Callable[[View], View]

#: Keycloak user ids and request ids (UUIDs); anything else in a URL is simply "not found".
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:-]{0,127}")

ALREADY_COLLECTION_CONTACT = (
    "Cette personne est déjà interlocuteur de collecte pour ce SIREN et ce lot."
)
UNKNOWN_ADHERENT = (
    "Ce SIREN n’est rattaché à aucun adhérent de la plateforme : rien n’a été enregistré. "
    "Rapprochez-vous de votre coordonnateur du groupement."
)
#: Said of a staff account's address, without saying whose it is.
PROTECTED_ADDRESS = (
    "Cette adresse ne peut pas être enregistrée pour ce contact ; contactez le support."
)
PLACEHOLDER = ("", "Choisissez le SIREN et le lot")


# --- per-request helpers ----------------------------------------------------------------------


def _scope(siren: str, lot: str) -> Scope:
    scope = Scope.parse(f"{siren}/{lot}")
    if scope is None:
        abort(404)
    return scope


def url_id(value: str) -> str:
    """A Keycloak id (a person's, a request's) taken from a URL, or 404 when it cannot be one."""
    if not _ID.fullmatch(value):
        abort(404)
    return value


def _to_scope(scope: Scope, message: str) -> ResponseReturnValue:
    flash(message, "info")
    return redirect(url_for(here("perimetre"), siren=scope.siren, lot=scope.lot))


def initial_values(person: Person, scope: Scope | None = None) -> dict[str, Any]:
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


# --- the pages of one SIREN/lot, for members and for support ----------------------------------


def space_blueprint(
    name: str,
    url_prefix: str,
    guard: Guard,
    space_of: Callable[[], MemberSpace],
    *,
    for_support: bool = False,
) -> Blueprint:
    """The pages of one SIREN/lot and of its technical and billing contacts.

    ``guard`` wraps every view; ``space_of`` gives the :class:`MemberSpace` of the request, which
    decides which SIREN/lot pairs may be reached. Templates see ``espace_support``: support has
    no collection-contact requests to make, it adds collection contacts itself.
    """
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    @bp.context_processor
    def flavour() -> dict[str, Any]:
        return {"espace_support": for_support}

    def scope_space(siren: str, lot: str) -> tuple[MemberSpace, Scope]:
        """The request's space and one SIREN/lot it may reach (else 404); the SIREN/lot is
        checked first, so a malformed one costs no Keycloak call."""
        scope = _scope(siren, lot)
        space = space_of()
        space.member.require(scope)
        return space, scope

    @bp.get("/<siren>/<lot>/")
    @guard
    def perimetre(siren: str, lot: str) -> ResponseReturnValue:
        space, scope = scope_space(siren, lot)
        contacts = space.contacts(scope)
        return render_template(
            "espace/perimetre.html",
            contacts=contacts,
            scope=scope,
            titre=scope_label(scope, {scope.siren: contacts.adherent}),
            collecte=Function.COLLECTE,
        )

    @bp.route("/<siren>/<lot>/contacts/nouveau", methods=["GET", "POST"])
    @guard
    def nouveau_contact(siren: str, lot: str) -> ResponseReturnValue:
        space, scope = scope_space(siren, lot)
        form = TechnicalBillingContactForm()
        if form.validate_on_submit():
            try:
                space.add_contact(scope, form.contact_data(), _functions(form))
            except ProtectedAddress:
                form.email.errors.append(PROTECTED_ADDRESS)
            except UnknownAdherent:
                form.form_errors.append(UNKNOWN_ADHERENT)
            else:
                return _to_scope(scope, "Contact enregistré.")
        return form_page("espace/contact.html", form, scope=scope, person=None)

    @bp.route("/<siren>/<lot>/contacts/<person_id>/modifier", methods=["GET", "POST"])
    @guard
    def modifier_contact(siren: str, lot: str, person_id: str) -> ResponseReturnValue:
        space, scope = scope_space(siren, lot)
        person, editable = space.contact_standing(scope, url_id(person_id))
        if not editable:
            # Known elsewhere: only « Retirer » is offered; a forged form gets « introuvable ».
            raise NotAllowed(person.id)
        form = EditContactForm(data=get_only(initial_values(person, scope)))
        if form.validate_on_submit():
            space.edit_contact(scope, person.id, form.contact_data(person.email), _functions(form))
            return _to_scope(scope, "Contact modifié.")
        return form_page("espace/contact.html", form, scope=scope, person=person)

    @bp.post("/<siren>/<lot>/contacts/<person_id>/retirer")
    @guard
    def retirer_contact(siren: str, lot: str, person_id: str) -> ResponseReturnValue:
        space, scope = scope_space(siren, lot)
        if not ConfirmForm().validate_on_submit():
            abort(400)
        space.remove_contact(scope, url_id(person_id))
        return _to_scope(scope, "Contact retiré.")

    return bp


# --- « Mon espace » ----------------------------------------------------------------------------


def _space() -> MemberSpace:
    user = current_user()
    if user is None:  # login_required has already sent signed-out users to sign in
        raise NotAllowed("signed out")
    return MemberSpace.for_person(get_gateway(), user.sub)


bp = space_blueprint("espace", "/espace", login_required, _space)


@bp.get("/")
@login_required
def accueil() -> ResponseReturnValue:
    space = _space()
    adherents = space.adherents()
    perimetres = [(scope, scope_label(scope, adherents)) for scope in space.member.scopes]
    return render_template("espace/accueil.html", person=space.member.person, perimetres=perimetres)


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
        person, editable = space.contact_standing(wanted, url_id(personne))
        # Known elsewhere: the address only, never their names and phones.
        initial = initial_values(person) if editable else {"email": person.email}
    if wanted in scopes:
        initial["perimetre"] = str(wanted)

    adherents = space.adherents()
    choices = [(str(scope), scope_label(scope, adherents)) for scope in scopes]
    if len(choices) > 1:
        choices.insert(0, PLACEHOLDER)
    form = CollectionRequestForm(choices, data=get_only(initial))
    if form.validate_on_submit():
        scope = Scope(*form.selected_perimetre())
        queue_url = external_url("support.demandes", siren=scope.siren, lot=scope.lot)
        try:
            space.request_collection_contact(
                scope, form.contact_data(), Mailer(current_app.config), queue_url, abuse_limits()
            )
        except LimitReached as reached:
            form.email.errors.append(reached.message)
        except AlreadyCollectionContact:
            form.email.errors.append(ALREADY_COLLECTION_CONTACT)
        except ProtectedAddress:
            form.email.errors.append(PROTECTED_ADDRESS)
        except UnknownAdherent:
            form.form_errors.append(UNKNOWN_ADHERENT)
        else:
            return _to_scope(
                scope, "Demande transmise au support : vous pouvez suivre son état ci-dessous."
            )
    return form_page("espace/demande.html", form, has_scopes=bool(scopes))
