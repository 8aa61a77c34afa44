"""« Mon compte » : what a signed-in person sees and does about their own account — their
Keycloak sessions, listed and closable one by one. Passwords and the second factor are changed on
Keycloak's own pages (application-initiated actions, portal.web.compte), never here."""

from __future__ import annotations

from portal.core.domain import AccountSession
from portal.core.keycloak.gateway import KeycloakGateway


class UnknownSession(Exception):
    """Not one of this person's sessions (ended meanwhile, or someone else's)."""


class Account:
    def __init__(self, gateway: KeycloakGateway, person_id: str) -> None:
        self.gateway, self.person_id = gateway, person_id

    def sessions(self) -> list[AccountSession]:
        return self.gateway.sessions(self.person_id)

    def close(self, session_id: str) -> AccountSession:
        """End one of the person's own sessions; :class:`UnknownSession` for any other id."""
        found = next((s for s in self.sessions() if s.id == session_id), None)
        if found is None:
            raise UnknownSession(session_id)
        self.gateway.end_session(session_id)
        return found
