"""What a signed-in collection contact may see and do, checked on the server every time.

The rule: a member acts only on the SIREN/lot pairs where Keycloak says, right now, that they are
a collection contact. Ids and parameters sent by the browser are never trusted beyond that.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.domain import (
    NON_LOGIN_FUNCTIONS,
    Adherent,
    Change,
    ContactDetails,
    Function,
    Person,
    Scope,
    ScopeContacts,
)
from portal.gateway import KeycloakGateway
from portal.notify import Mailer, NotificationFailed


class NotAllowed(Exception):
    """The member asked for a SIREN/lot or a person outside their own scopes."""


class AlreadyCollectionContact(Exception):
    """The proposed person is already a collection contact for this SIREN/lot."""


@dataclass(frozen=True)
class Member:
    """The signed-in person, read fresh from Keycloak for each request."""

    person: Person
    scopes: tuple[Scope, ...]
    # Support acts for every adherent; the routes that build such a member check the role.
    unrestricted: bool = False

    def require(self, scope: Scope) -> None:
        if not self.unrestricted and scope not in self.scopes:
            raise NotAllowed(str(scope))


class MemberSpace:
    def __init__(self, gateway: KeycloakGateway, member: Member) -> None:
        self.gateway = gateway
        self.member = member

    @classmethod
    def for_person(cls, gateway: KeycloakGateway, person_id: str) -> MemberSpace:
        person = gateway.person(person_id)
        if person is None:
            raise NotAllowed(person_id)
        scopes = tuple(sorted(person.scopes(Function.COLLECTE)))
        return cls(gateway, Member(person, scopes))

    def _change(self, what: str) -> Change:
        return Change.now(self.member.person.email, what)

    def adherents(self) -> dict[str, Adherent | None]:
        sirens = sorted({scope.siren for scope in self.member.scopes})
        return {siren: self.gateway.adherent(siren) for siren in sirens}

    def contacts(self, scope: Scope) -> ScopeContacts:
        self.member.require(scope)
        adherent = self.gateway.adherent(scope.siren)
        collection = self.gateway.people_with(Function.COLLECTE.value, scope)
        principal_id = adherent.principal_id(scope.lot) if adherent else None
        principal = next((p for p in collection if p.id == principal_id), None)
        if principal is None and principal_id:
            # The principal stays the principal even if their function was later removed.
            principal = self.gateway.person(principal_id)
        return ScopeContacts(
            scope=scope,
            adherent=adherent,
            principal=principal,
            collection=tuple(p for p in collection if p.id != principal_id),
            technical=tuple(self.gateway.people_with(Function.TECHNIQUE.value, scope)),
            billing=tuple(self.gateway.people_with(Function.FACTURATION.value, scope)),
            requests=tuple(self.gateway.requests_on(scope)),
        )

    def contact(self, scope: Scope, person_id: str) -> Person:
        """A technical or billing contact of one of the member's scopes, or NotAllowed."""
        self.member.require(scope)
        person = self.gateway.person(person_id)
        if person is None or not any(person.holds(f, scope) for f in NON_LOGIN_FUNCTIONS):
            raise NotAllowed(person_id)
        return person

    def add_contact(
        self, scope: Scope, details: ContactDetails, functions: frozenset[Function]
    ) -> Person:
        self.member.require(scope)
        granted = sorted(functions & set(NON_LOGIN_FUNCTIONS))
        if not granted:
            raise NotAllowed("aucune fonction")
        labels = " et ".join(function.label.lower() for function in granted)
        return self.gateway.add_functions(
            details, granted, scope, self._change(f"ajout {labels} {scope}")
        )

    def edit_contact(
        self,
        scope: Scope,
        person_id: str,
        details: ContactDetails,
        functions: frozenset[Function],
    ) -> Person:
        self.contact(scope, person_id)
        wanted = {function: function in functions for function in NON_LOGIN_FUNCTIONS}
        return self.gateway.update_contact(
            person_id, scope, wanted, self._change(f"modification contact {scope}"), details
        )

    def remove_contact(self, scope: Scope, person_id: str) -> Person:
        self.contact(scope, person_id)
        wanted = dict.fromkeys(NON_LOGIN_FUNCTIONS, False)
        return self.gateway.update_contact(
            person_id, scope, wanted, self._change(f"retrait technique/facturation {scope}")
        )

    def request_collection_contact(
        self, scope: Scope, details: ContactDetails, mailer: Mailer, queue_url: str
    ) -> Person:
        """Record the request, then tell support; if support cannot be told, nothing stays."""
        self.member.require(scope)
        existing = self.gateway.find_person_by_email(details.email)
        if existing is not None and existing.holds(Function.COLLECTE, scope):
            raise AlreadyCollectionContact(details.email)
        requester = self.member.person.email
        person, request = self.gateway.add_request(
            details, scope, requester, self._change(f"demande collecte {scope}")
        )
        try:
            mailer.collection_request(
                details, scope, self.gateway.adherent(scope.siren), requester, queue_url
            )
        except NotificationFailed:
            self.gateway.withdraw_request(
                person.id, request.id, self._change(f"demande collecte {scope} annulée")
            )
            raise
        return person
