"""Who may open a page: every access guard of the portal, in one place.

- :func:`login_required`: signed in (the member space);
- :func:`support_required`: signed in and holding the realm role ``support`` right now (the
  support console); the request's :class:`SupportDesk` is kept in ``flask.g``
  (:func:`current_desk`);
- :func:`staff_required`: signed in and support or coordinator right now (a groupement's
  follow-up and import); the request's :class:`StaffAccess` is kept in ``flask.g``
  (:func:`current_staff`), and ``current_staff().require(groupement)`` refuses a coordinator
  of another groupement.

Roles and coordinator marker groups are asked to Keycloak on every request, so a withdrawn role
or groupement takes effect at once. Refusals are exceptions mapped to French pages in
:mod:`portal.web.errors` (:class:`NotSupport`, :class:`NotStaff`: 403).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec

from flask import g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from portal.core.keycloak import schema
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.support_desk import SUPPORT_ROLE, NotSupport, SupportDesk
from portal.web.auth import STAFF_KEY, SUPPORT_KEY, SessionUser, current_user
from portal.web.gateway import get_gateway
from portal.web.pages import abuse_limits
from portal.web.public_url import external_url

P = ParamSpec("P")

View = Callable[..., ResponseReturnValue]
#: What stands before every view of a blueprint: sign-in, and for support the role check.
ViewGuard = Callable[[View], View]
ViewDecorator = Callable[[Callable[P, ResponseReturnValue]], Callable[P, ResponseReturnValue]]

COORDINATOR_ROLE = schema.COORDINATOR_ROLE


# --- signed in --------------------------------------------------------------------------------


def login_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Send signed-out users (or users whose token expired) to the sign-in page."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_user() is None:
            return redirect(url_for("auth.login", next=_requested_path()))
        return view(*args, **kwargs)

    return wrapped


def _requested_path() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return f"{request.path}?{query}" if query else request.path


def access_guard(
    flag_key: str, refusal: type[Exception], authorize: Callable[[SessionUser], None]
) -> ViewDecorator[P]:
    """A view decorator for pages reserved to a role checked against Keycloak on every request:
    signed in, then `authorize(user)`, which raises `refusal` or keeps what the view needs in
    `flask.g`. The session flag `flag_key` only remembers, for the home page's links, whether
    this access was granted last time."""

    def decorator(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            user = current_user()
            if user is None:  # login_required has already sent signed-out users to sign in
                raise refusal("signed out")
            try:
                authorize(user)
            except refusal:
                session.pop(flag_key, None)
                raise
            if session.get(flag_key) is not True:
                session[flag_key] = True
            return view(*args, **kwargs)

        return wrapped

    return decorator


# --- support ----------------------------------------------------------------------------------


def _authorize_support(user: SessionUser) -> None:
    g.support_desk = SupportDesk.for_person(
        get_gateway(), user.sub, user.email, external_url("auth.login"), abuse_limits()
    )


#: Signed in, and holding the realm role ``support`` right now (asked to Keycloak).
support_required: ViewDecorator[...] = access_guard(SUPPORT_KEY, NotSupport, _authorize_support)


def current_desk() -> SupportDesk:
    """The desk of this request (set by :func:`support_required`)."""
    current: SupportDesk = g.support_desk
    return current


# --- staff: support or a groupement's coordinators --------------------------------------------


class NotStaff(Exception):
    """Neither support nor coordinator of the groupement asked for."""


@dataclass(frozen=True)
class StaffAccess:
    """What a staff member (support or coordinator) may open: which groupements."""

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


def staff_for(gateway: KeycloakGateway, person_id: str, email: str) -> StaffAccess:
    roles = gateway.realm_roles(person_id)
    if SUPPORT_ROLE in roles:
        return StaffAccess(person_id, email, None)
    if COORDINATOR_ROLE in roles:
        return StaffAccess(person_id, email, gateway.coordinated_groupements(person_id))
    raise NotStaff(person_id)


def _authorize_staff(user: SessionUser) -> None:
    g.staff = staff_for(get_gateway(), user.sub, user.email)


#: Signed in, and support or coordinator right now; the access is kept in `g.staff`.
staff_required: ViewDecorator[...] = access_guard(STAFF_KEY, NotStaff, _authorize_staff)


def current_staff() -> StaffAccess:
    """The staff access of this request (set by :func:`staff_required`)."""
    current: StaffAccess = g.staff
    return current
