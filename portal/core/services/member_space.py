"""What a signed-in collection contact may see and do, checked on the server every time.

The rule: a member acts only on the SIREN/lot pairs where Keycloak says, right now, that they are
a collection contact under the authority rule (:mod:`portal.core.authority`: the function value, the
membership of the adherent's group, the lot among the adherent's lots). Ids and parameters sent
by the browser are never trusted beyond that. A member edits the names and phones of a contact
only within their remit; a person known elsewhere is linked, never rewritten, and staff accounts
never become contacts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from portal.core.abuse_limits import AbuseLimits
from portal.core.authority import (
    STAFF_ROLE,
    Standing,
    acts_for,
    authorised_scopes,
    left_on_siren,
    principal_of,
    within_remit,
)
from portal.core.domain import (
    NON_LOGIN_FUNCTIONS,
    Adherent,
    Change,
    ContactDetails,
    Function,
    Person,
    Scope,
    ScopeContacts,
)
from portal.core.errors import AlreadyCollectionContact as AlreadyCollectionContact
from portal.core.errors import NotAllowed as NotAllowed  # re-exported: importers keep working
from portal.core.errors import ProtectedAddress as ProtectedAddress
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.notify import Mailer, NotificationFailed


@dataclass(frozen=True)
class Member:
    """The signed-in person, read fresh from Keycloak for each request."""

    person: Person
    scopes: tuple[Scope, ...]
    # Support acts for every adherent; the routes that build such a member check the role.
    unrestricted: bool = False
    # SIREN → the adherent groups the person is a member of, as read for this request (their
    # names, lots and principals): the pages take them from here rather than asking again.
    adherents: Mapping[str, Adherent] = field(default_factory=dict)

    def require(self, scope: Scope) -> None:
        if not self.unrestricted and scope not in self.scopes:
            raise NotAllowed(str(scope))


class MemberSpace:
    def __init__(self, gateway: KeycloakGateway, member: Member) -> None:
        self.gateway = gateway
        self.member = member
        # SIREN → the adherent's members with their attributes, read at most once per request.
        self._members: dict[str, list[Person]] = {}
        # person id → realm roles, read with the person this request.
        self._roles: dict[str, frozenset[str]] = {}

    @classmethod
    def for_person(
        cls, gateway: KeycloakGateway, person_id: str, scope: Scope | None = None
    ) -> MemberSpace:
        """The person as Keycloak says right now, in one call (their record, their adherent
        groups and, for the SIREN/lot ``scope`` of a page, the members of that adherent, which
        the page lists). Unknown or disabled: :class:`NotAllowed`."""
        page = gateway.person_page(person_id, scope.siren if scope is not None else None)
        # A disabled account is refused here too, not only by the back-channel logout.
        if page is None or not page.person.enabled:
            raise NotAllowed(person_id)
        scopes = tuple(sorted(authorised_scopes(page.person, Function.COLLECTE, page.adherents)))
        space = cls(gateway, Member(page.person, scopes, adherents=page.adherents))
        if scope is not None and page.members is not None:
            space._members[scope.siren] = page.members
        space._roles[person_id] = page.realm_roles
        return space

    def _change(self, what: str) -> Change:
        return Change.now(self.member.person.email, what)

    def adherents(self) -> dict[str, Adherent | None]:
        sirens = sorted({scope.siren for scope in self.member.scopes})
        return {siren: self._adherent(siren) for siren in sirens}

    def _adherent(self, siren: str) -> Adherent | None:
        """The adherent group read with the member's own groups (an authorised scope's adherent
        always is one), else looked up (support)."""
        known = self.member.adherents.get(siren)
        return known if known is not None else self.gateway.adherent(siren)

    def _members_of(self, adherent: Adherent) -> list[Person]:
        if adherent.siren not in self._members:
            self._members[adherent.siren] = self.gateway.adherent_members(adherent)
        return self._members[adherent.siren]

    def contacts(self, scope: Scope) -> ScopeContacts:
        """Everyone of the SIREN/lot under the authority rule: the adherent group's members with
        their attributes (one listing), then the rule for each function."""
        self.member.require(scope)
        adherent = self._adherent(scope.siren)
        members = self._members_of(adherent) if adherent else []
        memberships = {adherent.siren: adherent} if adherent else {}

        def holding(function: Function) -> tuple[Person, ...]:
            found = (p for p in members if acts_for(p, function, scope, memberships))
            return tuple(sorted(found, key=lambda person: person.email))

        collection = holding(Function.COLLECTE)
        principal_id = adherent.principal_id(scope.lot) if adherent else None
        principal = next((p for p in collection if p.id == principal_id), None)
        if principal is None and principal_id:
            # The principal stays the principal even if their function was later removed.
            principal = self.gateway.person(principal_id)
        requests = sorted(
            (
                (person, request)
                for person in members
                for request in person.requests
                if request.scope == scope
            ),
            key=lambda pair: pair[1].requested_at,
            reverse=True,
        )
        technical, billing = holding(Function.TECHNIQUE), holding(Function.FACTURATION)
        shown = [*technical, *billing, *(person for person, _ in requests)]
        return ScopeContacts(
            scope=scope,
            adherent=adherent,
            principal=principal,
            collection=tuple(p for p in collection if p.id != principal_id),
            technical=technical,
            billing=billing,
            requests=tuple(requests),
            # What the listing shows: the person's own functions and requests and their being a
            # principal here. Staff and principals elsewhere are checked before any edit
            # (contact_standing), at the cost of two reads for that one person.
            editable=frozenset(
                p.id
                for p in shown
                if within_remit(
                    Standing(p, False, principal_of(memberships.values(), p.id)),
                    self.member.scopes,
                    self.member.unrestricted,
                )
            ),
        )

    def _contact(self, scope: Scope, person_id: str) -> tuple[Person, Mapping[str, Adherent]]:
        """A technical or billing contact of one of the member's scopes under the authority
        rule, with their adherent groups, or NotAllowed."""
        self.member.require(scope)
        # One call: the contact, their adherent groups and their roles (staff is never edited).
        page = self.gateway.person_page(person_id)
        if page is None:
            raise NotAllowed(person_id)
        person, memberships = page.person, page.adherents
        self._roles[person_id] = page.realm_roles
        if not any(acts_for(person, f, scope, memberships) for f in NON_LOGIN_FUNCTIONS):
            raise NotAllowed(person_id)
        return person, memberships

    def contact(self, scope: Scope, person_id: str) -> Person:
        """A technical or billing contact of one of the member's scopes, or NotAllowed."""
        return self._contact(scope, person_id)[0]

    def contact_standing(self, scope: Scope, person_id: str) -> tuple[Person, bool]:
        """The contact, and whether the member may see and edit their names and phones."""
        person, memberships = self._contact(scope, person_id)
        return person, self._may_edit_identity(person, memberships)

    def _is_staff(self, person: Person) -> bool:
        roles = self._roles.get(person.id)
        if roles is None:
            roles = self.gateway.realm_roles(person.id)
        return STAFF_ROLE in roles

    def _may_edit_identity(self, person: Person, memberships: Mapping[str, Adherent]) -> bool:
        # Staff is never within a remit: the role is asked only when the rest allows.
        standing = Standing(person, False, principal_of(memberships.values(), person.id))
        if not within_remit(standing, self.member.scopes, self.member.unrestricted):
            return False
        return not self._is_staff(person)

    def _refuse_staff(self, existing: Person) -> None:
        """ProtectedAddress for a staff account, before anything is written."""
        if self._is_staff(existing):
            raise ProtectedAddress(existing.email)

    def add_contact(
        self, scope: Scope, details: ContactDetails, functions: frozenset[Function]
    ) -> Person:
        """Unknown e-mail: a new person. Known: the functions are added and the person joins
        the adherent's group; their identity stays as it is (the typed names and phones are not
        used), so the answer is the same whoever owns the address."""
        self.member.require(scope)
        granted = sorted(functions & set(NON_LOGIN_FUNCTIONS))
        if not granted:
            raise NotAllowed("aucune fonction")
        labels = " et ".join(function.label.lower() for function in granted)
        return self.gateway.add_functions(
            details, granted, scope, self._change(f"ajout {labels} {scope}"), self._refuse_staff
        )

    def edit_contact(
        self,
        scope: Scope,
        person_id: str,
        details: ContactDetails,
        functions: frozenset[Function],
    ) -> Person:
        """Names, phones and functions of a contact within the member's remit; anyone else is
        refused (NotAllowed), whatever the form sent."""
        person, memberships = self._contact(scope, person_id)
        if not self._may_edit_identity(person, memberships):
            raise NotAllowed(person_id)
        wanted = {function: function in functions for function in NON_LOGIN_FUNCTIONS}
        updated = self.gateway.update_contact(
            person_id, scope, wanted, self._change(f"modification contact {scope}"), details
        )
        self._leave_if_unlinked(updated, scope, memberships)
        return updated

    def remove_contact(self, scope: Scope, person_id: str) -> Person:
        _, memberships = self._contact(scope, person_id)
        wanted = dict.fromkeys(NON_LOGIN_FUNCTIONS, False)
        updated = self.gateway.update_contact(
            person_id, scope, wanted, self._change(f"retrait technique/facturation {scope}")
        )
        self._leave_if_unlinked(updated, scope, memberships)
        return updated

    def _leave_if_unlinked(
        self, person: Person, scope: Scope, memberships: Mapping[str, Adherent]
    ) -> None:
        """Out of the adherent's group once nothing links the person to any lot of that SIREN
        (a principal stays). A second write: if it fails, the person keeps a membership that
        gives nothing without a function, and a later removal tries again."""
        adherent = memberships.get(scope.siren)
        if adherent is not None and not left_on_siren(person, scope.siren, memberships):
            self.gateway.leave_adherent(person.id, adherent)

    def request_collection_contact(
        self,
        scope: Scope,
        details: ContactDetails,
        mailer: Mailer,
        queue_url: str,
        limits: AbuseLimits,
    ) -> Person:
        """Record the request, then tell support; if support cannot be told, nothing stays.
        A known person keeps their identity (:meth:`add_contact`).

        Limited per member and per proposed e-mail: :class:`LimitReached` before Keycloak is
        asked anything about the address and before any write or mail, the same for a known and
        an unknown address; only a request that went through (recorded, support told) counts."""
        self.member.require(scope)
        guard = limits.collection_request(self.member.person.id, details.email)
        guard.check()
        person = self._request(scope, details, mailer, queue_url)
        guard.count()
        return person

    def _request(
        self, scope: Scope, details: ContactDetails, mailer: Mailer, queue_url: str
    ) -> Person:
        """The request itself, within the limits (see :meth:`request_collection_contact`)."""

        def vet(existing: Person) -> None:
            self._refuse_staff(existing)
            memberships = self.gateway.person_adherents(existing.id)
            if acts_for(existing, Function.COLLECTE, scope, memberships):
                raise AlreadyCollectionContact(details.email)

        requester = self.member.person.email
        person, request = self.gateway.add_request(
            details, scope, requester, self._change(f"demande collecte {scope}"), vet
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
