"""Who may see a groupement's follow-up and import its members: its coordinators, and support.

Checked against Keycloak on every request (roles and coordinator marker groups), like the
support console, so a withdrawn role or groupement takes effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.support_desk import SUPPORT_ROLE
from portal.web.auth import STAFF_KEY, SessionUser, ViewDecorator, access_guard
from portal.web.gateway import get_gateway

COORDINATOR_ROLE = "coordonnateur"


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


def _authorize_staff(user: SessionUser) -> None:
    g.staff = staff_for(get_gateway(), user.sub, user.email)


#: Signed in, and support or coordinator right now; the Staff is kept in `g.staff`.
staff_required: ViewDecorator[...] = access_guard(STAFF_KEY, NotStaff, _authorize_staff)
