"""« Mon espace » : what a signed-in collection contact sees and manages.

Views stay thin: they validate the form, call :class:`MemberSpace` (built for each request from
what Keycloak says right now about the signed-in person), turn known errors into field errors,
flash and redirect. Every permission is checked by :class:`MemberSpace`. The pages of one
SIREN/lot come from :func:`portal.web.space.space_blueprint`, which the support console also
serves for any adherent.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue

from portal.core.abuse_limits import LimitReached
from portal.core.domain import Scope
from portal.core.keycloak.gateway import UnknownAdherent
from portal.core.notify import Mailer
from portal.core.services.member_space import (
    AlreadyCollectionContact,
    MemberSpace,
    NotAllowed,
    ProtectedAddress,
)
from portal.web.auth import current_user
from portal.web.espace.forms import CollectionRequestForm
from portal.web.gateway import get_gateway
from portal.web.guards import login_required
from portal.web.pages import abuse_limits, form_page, get_only, scope_label
from portal.web.public_url import external_url
from portal.web.space import (
    PROTECTED_ADDRESS,
    UNKNOWN_ADHERENT,
    initial_values,
    space_blueprint,
    to_scope,
    url_id,
)

ALREADY_COLLECTION_CONTACT = (
    "Cette personne est déjà interlocuteur de collecte pour ce SIREN et ce lot."
)
PLACEHOLDER = ("", "Choisissez le SIREN et le lot")


def _space(scope: Scope | None = None) -> MemberSpace:
    """The signed-in person's space, read fresh in one call; ``scope``: the SIREN/lot of the
    page, whose adherent's members come with it."""
    user = current_user()
    if user is None:  # login_required has already sent signed-out users to sign in
        raise NotAllowed("signed out")
    return MemberSpace.for_person(get_gateway(), user.sub, scope)


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
            return to_scope(
                scope, "Demande transmise au support : vous pouvez suivre son état ci-dessous."
            )
    return form_page("espace/demande.html", form, has_scopes=bool(scopes))
