"""The pages of one SIREN/lot and of its technical and billing contacts, shared by the member
space (``/espace/<siren>/<lot>/…``) and the support console
(``/support/adherents/<siren>/<lot>/…``).

:func:`space_blueprint` builds them for either: the guard and the :class:`MemberSpace` of the
request decide who may reach which SIREN/lot; the views validate the form, call the space, turn
known errors into field errors, flash and redirect. A SIREN/lot or a person outside the member's
own scopes is answered with the same 404 as one that does not exist (:class:`NotAllowed` is
mapped in :mod:`portal.web.errors`). Templates (the member space's, ``espace/…``) link within
the blueprint serving the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from portal.core.domain import NON_LOGIN_FUNCTIONS, Function, Person, RequestStatus, Scope
from portal.core.keycloak.gateway import UnknownAdherent
from portal.core.services.member_space import MemberSpace, NotAllowed, ProtectedAddress
from portal.web.espace.forms import EditContactForm, TechnicalBillingContactForm
from portal.web.fields import ConfirmForm, format_phone
from portal.web.guards import ViewGuard
from portal.web.pages import form_page, get_only, here, scope_label

#: Keycloak user ids and request ids (UUIDs); anything else in a URL is simply "not found".
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:-]{0,127}")

UNKNOWN_ADHERENT = (
    "Ce SIREN n’est rattaché à aucun adhérent de la plateforme : rien n’a été enregistré. "
    "Rapprochez-vous de votre coordonnateur du groupement."
)
#: Said of a staff account's address, without saying whose it is.
PROTECTED_ADDRESS = (
    "Cette adresse ne peut pas être enregistrée pour ce contact ; contactez le support."
)


# --- what a URL holds -------------------------------------------------------------------------


def url_scope(siren: str, lot: str) -> Scope:
    """The SIREN/lot of a URL, or 404 when it cannot be one (checked before any Keycloak call)."""
    scope = Scope.parse(f"{siren}/{lot}")
    if scope is None:
        abort(404)
    return scope


def url_id(value: str) -> str:
    """A Keycloak id (a person's, a request's) taken from a URL, or 404 when it cannot be one."""
    if not _ID.fullmatch(value):
        abort(404)
    return value


# --- forms ------------------------------------------------------------------------------------


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


def to_scope(scope: Scope, message: str) -> ResponseReturnValue:
    """Flash ``message`` and go back to the page of ``scope`` (in the blueprint serving)."""
    flash(message, "info")
    return redirect(url_for(here("perimetre"), siren=scope.siren, lot=scope.lot))


# --- the pages --------------------------------------------------------------------------------


def space_blueprint(
    name: str,
    url_prefix: str,
    guard: ViewGuard,
    space_of: Callable[[Scope | None], MemberSpace],
    *,
    for_support: bool = False,
) -> Blueprint:
    """The pages of one SIREN/lot and of its technical and billing contacts.

    ``guard`` wraps every view; ``space_of(scope)`` gives the :class:`MemberSpace` of the request
    for the SIREN/lot of the URL (read with it in one call), which decides which SIREN/lot pairs
    may be reached. Templates see ``espace_support``: support has
    no collection-contact requests to make, it adds collection contacts itself.
    """
    # The templates are the member space's (portal/web/espace/templates).
    bp = Blueprint(name, __name__, url_prefix=url_prefix, template_folder="espace/templates")

    @bp.context_processor
    def flavour() -> dict[str, Any]:
        return {"espace_support": for_support}

    def scope_space(siren: str, lot: str) -> tuple[MemberSpace, Scope]:
        """The request's space and one SIREN/lot it may reach (else 404); the SIREN/lot is
        checked first, so a malformed one costs no Keycloak call."""
        scope = url_scope(siren, lot)
        space = space_of(scope)
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
            refusee=RequestStatus.REFUSED,
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
                return to_scope(scope, "Contact enregistré.")
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
            return to_scope(scope, "Contact modifié.")
        return form_page("espace/contact.html", form, scope=scope, person=person)

    @bp.post("/<siren>/<lot>/contacts/<person_id>/retirer")
    @guard
    def retirer_contact(siren: str, lot: str, person_id: str) -> ResponseReturnValue:
        space, scope = scope_space(siren, lot)
        if not ConfirmForm().validate_on_submit():
            abort(400)
        space.remove_contact(scope, url_id(person_id))
        return to_scope(scope, "Contact retiré.")

    return bp
