"""A person's functions on SIREN/lots and their collection-contact requests: every write is one
conditional user write (:meth:`portal.core.keycloak.users.Users.write`) carrying the audit line,
plus joining the adherent's group for a person new to the SIREN."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping

from portal.core.domain import (
    Adherent,
    Change,
    CollectionRequest,
    ContactDetails,
    Function,
    Person,
    RequestStatus,
    Scope,
)
from portal.core.errors import EmailTaken, KeycloakRefused
from portal.core.keycloak import mapping, revisions, schema, support_admin
from portal.core.keycloak.connection import refused
from portal.core.keycloak.groups import Groups
from portal.core.keycloak.mapping import UserEdit
from portal.core.keycloak.users import Users

Vet = Callable[[Person], None]


def _accept(person: Person) -> None:
    """The default vetting: nobody is refused."""


class Contacts:
    def __init__(self, users: Users, groups: Groups) -> None:
        self._users = users
        self._groups = groups

    def add_functions(
        self,
        details: ContactDetails,
        functions: Collection[Function],
        scope: Scope,
        change: Change,
        vet: Vet = _accept,
    ) -> Person:
        """Give ``functions`` on ``scope`` to the person with this e-mail, creating them if new,
        in one write (plus joining the adherent's group for a person new to this SIREN).

        One e-mail is one person: an existing person keeps their names and phones and only
        gains the functions. ``vet`` sees an existing person before anything is written and
        may refuse by raising."""
        adherent = self._groups.require_adherent(scope.siren)
        existing = self._users.find_by_email(details.email)
        if existing is None:
            attributes = {function.value: [str(scope)] for function in functions}
            try:
                return self._create(details, adherent, attributes, change)
            except KeycloakRefused as error:
                # 409: someone created this e-mail between the search and the creation. One
                # e-mail is one person: they gain the functions as any existing person does.
                existing = self._users.find_by_email(details.email) if refused(error, 409) else None
                if existing is None:
                    raise
        vet(existing)
        if all(existing.holds(function, scope) for function in functions):
            # A value without membership of the adherent's group gives nothing
            # (portal.core.authority): joining the group is what the member asked for.
            self._groups.join(existing.id, adherent.group_id)
            return existing
        edit = mapping.functions_edit({function: [scope] for function in functions})
        return self._extend(existing.id, adherent, edit, change)

    def update_contact(
        self,
        person_id: str,
        scope: Scope,
        functions: Mapping[Function, bool],
        change: Change,
        details: ContactDetails | None = None,
    ) -> Person:
        """In one write: add or remove each listed function on ``scope`` and, when given, change
        names and phones (never the e-mail, which is the person's identifier)."""
        edit = mapping.contact_edit(scope, functions, details)
        return self._users.update(person_id, edit, change)

    def add_request(
        self,
        details: ContactDetails,
        scope: Scope,
        requested_by: str,
        change: Change,
        vet: Vet = _accept,
        without_account: bool = False,
    ) -> tuple[Person, CollectionRequest]:
        """Record a pending request that this person become a collection contact; an existing
        person keeps their identity. ``vet``: as for :meth:`add_functions`;
        ``without_account``: the person's own request, from the public form."""
        adherent = self._groups.require_adherent(scope.siren)
        request = CollectionRequest(
            id=str(uuid.uuid4()),
            scope=scope,
            requested_by=requested_by,
            requested_at=change.at,
            without_account=without_account,
        )

        def record(attributes: dict[str, list[str]]) -> None:
            mapping.store_requests(attributes, [*mapping.requests(attributes), request])

        existing = self._users.find_by_email(details.email)
        if existing is not None:
            vet(existing)
        if existing is None:
            attributes: dict[str, list[str]] = {}
            record(attributes)
            person = self._create(details, adherent, attributes, change)
        else:
            person = self._extend(existing.id, adherent, mapping.attributes_edit(record), change)
        return person, request

    def withdraw_request(self, person_id: str, request_id: str, change: Change) -> None:
        """Remove a request record (used to undo one whose notification could not be sent)."""

        def edit(attributes: dict[str, list[str]]) -> None:
            kept = [r for r in mapping.requests(attributes) if r.id != request_id]
            mapping.store_requests(attributes, kept)

        self._users.update(person_id, mapping.attributes_edit(edit), change)

    def requests_on(self, scope: Scope) -> list[tuple[Person, CollectionRequest]]:
        found = [
            (person, request)
            for person in self._users.people_with(schema.REQUESTS_ON, str(scope))
            for request in person.requests
            if request.scope == scope
        ]
        return sorted(found, key=lambda pair: pair[1].requested_at, reverse=True)

    def pending_requests(self) -> list[tuple[Person, CollectionRequest]]:
        """Every request still waiting for support, newest first."""
        waiting = self._users.people_with(schema.PENDING_REQUEST, mapping.PENDING, recheck=False)
        found = [
            (person, request)
            for person in waiting
            for request in person.requests
            if request.status is RequestStatus.PENDING
        ]
        return sorted(found, key=lambda pair: pair[1].requested_at, reverse=True)

    def decide_request(
        self, person_id: str, request_id: str, accept: bool, reason: str, change: Change
    ) -> tuple[Person, CollectionRequest]:
        """Accept (the person becomes collection contact for the scope) or refuse, in one write."""
        edit, decided = mapping.decision_edit(request_id, accept, reason, change)
        person = self._users.update(person_id, edit, change)
        return person, decided[0]

    def revoke_collection(self, person_id: str, scope: Scope, change: Change) -> Person:
        """Remove the collection function on ``scope``, in one write; the adherent's
        ``principal.<lot>`` (a group attribute) is left as it is."""
        return self._users.update(person_id, support_admin.withdraw_collection(scope), change)

    def change_email(self, person_id: str, email: str, change: Change) -> Person:
        """In one write: the new e-mail, not verified, and VERIFY_EMAIL asked at the next
        sign-in. Raises :class:`EmailTaken` when Keycloak answers 409 (someone has this address,
        perhaps since the form was checked)."""
        try:
            return self._users.update(person_id, support_admin.new_email(email), change)
        except KeycloakRefused as error:
            if refused(error, 409):
                raise EmailTaken(email) from error
            raise

    def _create(
        self,
        details: ContactDetails,
        adherent: Adherent,
        attributes: dict[str, list[str]],
        change: Change,
    ) -> Person:
        attributes[schema.LAST_CHANGE] = [change.to_json()]
        return self._users.create(details, adherent, attributes)

    def _extend(self, person_id: str, adherent: Adherent, edit: UserEdit, change: Change) -> Person:
        """Update the person, then join the adherent's group if not yet a member; if joining
        fails, the update is undone."""
        with revisions.Compensations() as undo:
            written = self._users.write(person_id, edit, change)
            undo.push(lambda: self._users.undo(person_id, written))
            self._groups.join(person_id, adherent.group_id)
        return Person.from_representation({**written[1], "id": person_id})
