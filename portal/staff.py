"""Who may see a groupement's follow-up and import its members: its coordinators, and support.

Checked against Keycloak on every request (roles and coordinator marker groups), like the
support console, so a withdrawn role or groupement takes effect at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec

from flask import g, session
from flask.typing import ResponseReturnValue

from portal.auth import STAFF_KEY, current_user, login_required
from portal.gateway import KeycloakGateway, get_gateway
from portal.support_desk import SUPPORT_ROLE

COORDINATOR_ROLE = "coordonnateur"

P = ParamSpec("P")


class NotStaff(Exception):
    """Neither support nor coordinator of the groupement asked for."""


@dataclass(frozen=True)
class Staff:
    person_id: str
    email: str
    # None: every groupement (support); otherwise the groupements this person coordinates.
    groupements: frozenset[str] | None

    def require(self, groupement: str) -> None:
        if self.groupements is not None and groupement not in self.groupements:
            raise NotStaff(groupement)

    def visible(self, gateway: KeycloakGateway) -> list[str]:
        """The groupements this person may open, sorted."""
        if self.groupements is None:
            return gateway.groupements()
        return sorted(self.groupements)


def staff_for(gateway: KeycloakGateway, person_id: str, email: str) -> Staff:
    roles = gateway.realm_roles(person_id)
    if SUPPORT_ROLE in roles:
        return Staff(person_id, email, None)
    if COORDINATOR_ROLE in roles:
        return Staff(person_id, email, gateway.coordinated_groupements(person_id))
    raise NotStaff(person_id)


def staff_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Signed in, and support or coordinator right now; the Staff is kept in `g.staff`."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        user = current_user()
        if user is None:  # login_required has already sent signed-out users to sign in
            raise NotStaff("signed out")
        try:
            g.staff = staff_for(get_gateway(), user.sub, user.email)
        except NotStaff:
            session.pop(STAFF_KEY, None)
            raise
        if session.get(STAFF_KEY) is not True:  # only says whether the home page links here
            session[STAFF_KEY] = True
        return view(*args, **kwargs)

    return wrapped
