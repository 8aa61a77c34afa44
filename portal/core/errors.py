"""Every exception of the core, in one place: the domain's, the services' and the Keycloak
adapter's. The web layer maps them to French pages (``portal.web.errors``); the tooling to exit
codes. python-keycloak's own exceptions never leave the adapter (``portal.core.keycloak``): an
outage becomes :class:`KeycloakUnavailable`, a refusal the adapter gives no meaning to
:class:`KeycloakRefused`. Left out, with their reason: ``portal.web.staff.NotStaff`` (raised only
by the web layer's access guard) and ``portal.web.backchannel.LogoutTokenError`` (a protocol
error of the back-channel logout endpoint).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.core.domain import Person, Scope

# --- the Keycloak adapter -----------------------------------------------------------------------


class KeycloakUnavailable(Exception):
    """Keycloak could not be reached, timed out or answered with a server error (5xx)."""


class KeycloakRefused(Exception):
    """Keycloak refused an Admin API call (4xx) that has no domain meaning: a programming or
    configuration error (a forbidden call, a malformed representation). ``str()`` is
    python-keycloak's own message; ``response_code`` and ``response_body`` are Keycloak's."""

    def __init__(self, message: str, response_code: int | None, response_body: bytes | None):
        super().__init__(message)
        self.response_code = response_code
        self.response_body = response_body


class UnknownAdherent(Exception):
    """No adherent group exists for this SIREN."""


class UnknownPerson(Exception):
    """No person has this id."""


class UnknownGroupement(Exception):
    """No top-level group has this code."""


class UnknownRequest(Exception):
    """No pending request has this id on this person."""


class InvitationNotSent(Exception):
    """Keycloak could not send the invitation e-mail (its SMTP server refused or is down)."""


class ConcurrentChange(Exception):
    """Someone else kept changing this record while we tried to write it: nothing written."""


class EmailTaken(Exception):
    """Another person has this e-mail address (Keycloak refuses duplicates)."""


# --- services -----------------------------------------------------------------------------------


class NotAllowed(Exception):
    """The member asked for a SIREN/lot or a person outside their own scopes."""


class AlreadyCollectionContact(Exception):
    """The proposed person is already a collection contact for this SIREN/lot."""


class ProtectedAddress(Exception):
    """The e-mail belongs to platform staff, who never become a member's contact."""


class NotSupport(Exception):
    """The signed-in person does not hold the support role."""


class LotNotInContract(Exception):
    """The adherent exists but is not in this lot."""


class NotCollectionContact(Exception):
    """The person does not hold the collection function on this SIREN/lot (any more)."""

    def __init__(self, person: Person, scope: Scope) -> None:
        super().__init__(f"{person.id} {scope}")
        self.person = person


class SameEmail(Exception):
    """The new e-mail is the person's current one."""


class StaffEmail(Exception):
    """The person is staff: their e-mail is changed by a platform administrator, not here."""


class NotificationFailed(Exception):
    """The mail server refused or could not be reached."""


class LimitReached(Exception):
    """A limit is reached: nothing was done. ``message`` is what the user reads."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.message = message
        self.retry_at = retry_at


# --- user input ---------------------------------------------------------------------------------


# Plain exception classes: alike in shape, one per failure the callers tell apart.
class FieldError(ValueError):
    """A value that does not pass a check; ``str(error)`` is the French message."""


class FileError(ValueError):
    """The file cannot be read at all (French message); no line is checked."""


class Refused(ValueError):
    """The file is refused; the message is French (turned into ``FileError``)."""
