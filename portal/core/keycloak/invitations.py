"""Inviting a person (the e-mail of required actions: choose a password, accept the CGU, confirm
the e-mail address) and granting the collection function, which may invite. Both are several
Admin API calls; if one fails, what the earlier ones wrote is undone
(:class:`portal.core.keycloak.revisions.Compensations`), so no half-made record is left."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from keycloak.exceptions import KeycloakConnectionError, KeycloakError

from portal.core.domain import Change, Function, Invitation, Person, Scope
from portal.core.errors import InvitationNotSent, KeycloakUnavailable, UnknownPerson
from portal.core.keycloak import mapping, revisions, schema
from portal.core.keycloak.connection import Connection
from portal.core.keycloak.groups import Groups
from portal.core.keycloak.realm import Realm
from portal.core.keycloak.users import Users


@dataclass(frozen=True)
class Grant:
    """What granting the collection function did."""

    person: Person
    made_principal: bool
    invitation: Invitation | None


def _no_check() -> None:
    """The default ``before_inviting``: nothing refuses."""


class Invitations:
    def __init__(
        self, connection: Connection, users: Users, groups: Groups, realm: Realm, client_id: str
    ) -> None:
        self._admin = connection.admin
        self._users = users
        self._groups = groups
        self._realm = realm
        self._client_id = client_id  # the portal's client: where the e-mail's link leads back

    def invite(
        self, person_id: str, redirect_uri: str, change: Change, lifespan: int | None = None
    ) -> Invitation:
        """Send the invitation e-mail.

        The sending time is recorded first: the Keycloak extension refuses any invitation link
        issued before it, so a new invitation makes the older links stop working. If the mail
        cannot be sent, the record is put back as it was. ``lifespan``: the realm's
        invitation lifespan, when the caller already read it (bulk import)."""
        before = self._users.representation(person_id)
        if before is None:
            raise UnknownPerson(person_id)
        if lifespan is None:
            lifespan = self._realm.invitation_lifespan()
        invitation = Invitation(change.at, change.at + timedelta(seconds=lifespan))
        record = mapping.invitation_edit(invitation.sent_at, invitation.expires_at)
        with revisions.Compensations() as undo:
            written = self._users.write(person_id, record, change, before)
            undo.push(lambda: self._users.undo(person_id, written))
            self._send(person_id, redirect_uri, lifespan)
        return invitation

    def _send(self, person_id: str, redirect_uri: str, lifespan: int) -> None:
        try:
            self._admin.send_update_account(
                user_id=person_id,
                payload=list(schema.INVITATION_ACTIONS),
                client_id=self._client_id,
                lifespan=lifespan,
                redirect_uri=redirect_uri,
            )
        except KeycloakConnectionError as error:
            raise KeycloakUnavailable("Keycloak is unreachable") from error
        except KeycloakError as error:
            # Keycloak answers 500 "Failed to send execute actions email" when its SMTP fails.
            raise InvitationNotSent(str(error)) from error

    def grant_collection(
        self,
        person_id: str,
        scope: Scope,
        redirect_uri: str,
        change: Change,
        request_id: str | None = None,
        created: bool = False,
        before_inviting: Callable[[], None] = _no_check,
    ) -> Grant:
        """Make the person a collection contact for ``scope`` (accepting ``request_id`` if
        given), principal of the SIREN/lot if it has none, and invite them if their client space
        is not active yet. If any step fails, every earlier one is undone: a person ``created``
        for this grant is deleted, otherwise what this grant changed on their record is put back
        (a change someone else made meanwhile stays). ``before_inviting`` is called before
        anything is written when an invitation will be sent, and may refuse by raising (abuse
        limits)."""
        before = self._users.representation(person_id)
        if before is None:
            raise UnknownPerson(person_id)
        inviting = not self._users.has_password(person_id)
        if inviting:
            before_inviting()
        if request_id is None:
            edit = mapping.contact_edit(scope, {Function.COLLECTE: True}, None)
        else:
            edit, _ = mapping.decision_edit(request_id, True, "", change)
        with revisions.Compensations() as undo:
            if created:
                undo.push(lambda: self._users.delete(person_id))
            written = self._users.write(person_id, edit, change, before)
            if not created:
                undo.push(lambda: self._users.undo(person_id, written))
            granted = Person.from_representation({**written[1], "id": person_id})
            self._groups.join(person_id, self._groups.require_adherent(scope.siren).group_id)
            made_principal = self.ensure_principal(scope, person_id)
            if made_principal:
                undo.push(lambda: self._groups.release_principal(scope, person_id))
            invitation = self.invite(person_id, redirect_uri, change) if inviting else None
        return Grant(granted, made_principal, invitation)

    def ensure_principal(self, scope: Scope, person_id: str) -> bool:
        """Make the person principal of the SIREN/lot unless it has one: written once, never
        changed afterwards (Keycloak refuses another person in place of a principal, and a
        write based on a read made before someone else's is done again on a new read). Returns
        whether this call made them principal."""
        adherent = self._groups.require_adherent(scope.siren)
        if adherent.principal_id(scope.lot):
            return False
        return bool(self._groups.claim_principals(adherent.group_id, {scope.lot: person_id}))
