"""The Keycloak adapter's front door: :class:`KeycloakGateway` builds the resource objects of one
realm over one connection and delegates to them, so that callers keep one object to hold.

The resources, each a module of :mod:`portal.core.keycloak`: ``connection`` (configuration,
error translation, the paginator), ``mapping`` (JSON ↔ domain), ``users``, ``contacts`` (a
person's functions and requests), ``groups`` (groupements, adherents, principals), ``realm``,
``events`` (history, sign-ins, diagnosis), ``invitations`` (invite, grant) and ``bulk_writer``
(the import). Views never build Keycloak URLs or JSON, and never see python-keycloak's
exceptions: they get domain objects, or the exceptions of :mod:`portal.core.errors`. Nothing
here sets, reads or transmits a password.

Threading contract: one gateway is shared by every request thread of an application
(``portal.web.gateway.get_gateway`` keeps one per app) and by the bulk import's invitation
workers. This holds because:

- after construction, the gateway and its resources keep no per-call state: every method works
  on its arguments and locals (the read-modify-write loops, their edits and undo lists included);
- the only fields written later are two caches of facts that do not change while the process
  runs (the portal's service account as admin events name it; whether this account may use the
  partial import): two threads may both compute one, they find the same value, and assigning a
  reference is atomic under the GIL;
- python-keycloak's ``KeycloakOpenIDConnection`` refreshes its token without a lock (checked in
  7.1.1): :class:`portal.core.keycloak.connection.SharedConnection` serialises the refresh; its
  ``requests.Session`` is shared, and its urllib3 connection pool is thread-safe.

Concurrent writers to one record (two threads, two workers, a coordinator in the admin console)
are handled by Keycloak itself: every write is conditional (:mod:`portal.core.keycloak.revisions`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from keycloak.keycloak_admin import KeycloakAdmin

from portal.core.domain import (
    # The domain's vocabulary the facade's signatures use (support_desk.py imports the same).
    AccountSession,
    Adherent,
    Change,
    CollectionRequest,
    ContactDetails,
    Diagnosis,
    Function,
    HistoryEntry,
    Invitation,
    Person,
    Scope,
)
from portal.core.errors import (
    ConcurrentChange,
    InvitationNotSent,
    KeycloakUnavailable,
    UnknownAdherent,
    UnknownGroupement,
    UnknownPerson,
    UnknownRequest,
)
from portal.core.keycloak import schema
from portal.core.keycloak.bulk_writer import INVITATION_WORKERS, BulkWriter
from portal.core.keycloak.connection import Connection, admin_from_config
from portal.core.keycloak.contacts import Contacts, Vet
from portal.core.keycloak.events import Events
from portal.core.keycloak.groups import Activations, Groups
from portal.core.keycloak.invitations import Grant, Invitations
from portal.core.keycloak.mapping import adherent_groups
from portal.core.keycloak.pages import PageReads, PersonPage
from portal.core.keycloak.read_cache import ReadCache
from portal.core.keycloak.realm import Realm
from portal.core.keycloak.users import Users
from portal.core.services.bulk import Existing, Outcome, Plan

T = TypeVar("T")

# Re-exported so that callers written against the one-module gateway keep working.
__all__ = [
    "INVITATION_WORKERS",
    "ConcurrentChange",
    "Grant",
    "InvitationNotSent",
    "KeycloakGateway",
    "KeycloakUnavailable",
    "UnknownAdherent",
    "UnknownGroupement",
    "UnknownPerson",
    "UnknownRequest",
    "adherent_groups",
]


def _accept(person: Person) -> None:
    """The default vetting: nobody is refused."""


def _no_check() -> None:
    """The default ``before_inviting``: nothing refuses."""


class KeycloakGateway:
    """Typed access to the Keycloak Admin API of one realm (a facade over its resources).

    Its methods repeat the resources' signatures on purpose (``duplicates`` pairs them): callers
    written against the one-class gateway keep working, and may use ``gateway.<resource>``."""

    def __init__(
        self,
        admin: KeycloakAdmin,
        portal_client_id: str = schema.PORTAL_CLIENT,
        cache: ReadCache | None = None,
    ) -> None:
        self._admin = admin
        # Without a cache (tooling, tests), every read asks Keycloak.
        self._cache = cache if cache is not None else ReadCache(lambda: "", seconds=0)
        connection = Connection(admin)
        self.users = Users(connection)
        self.pages = PageReads(connection)
        self.groups = Groups(connection)
        self.contacts = Contacts(self.users, self.groups)
        self.realm = Realm(connection, self.users)
        self.events = Events(connection, self.users, self.groups, self.realm)
        self.invitations = Invitations(
            connection, self.users, self.groups, self.realm, portal_client_id
        )
        self.bulk = BulkWriter(connection, self.users, self.groups, self.realm, self.invitations)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        cache: ReadCache | None = None,
        on_write: Callable[[], None] | None = None,
    ) -> KeycloakGateway:
        """A gateway authenticated as the ``ADMIN_CLIENT_ID`` service account; page reads kept
        in ``cache`` (see :mod:`portal.core.keycloak.read_cache`), ``on_write`` called after
        each of its writes — Keycloak then leaves telling the portal to it."""
        client = str(config.get("OIDC_CLIENT_ID") or schema.PORTAL_CLIENT)
        return cls(admin_from_config(config, on_write), client, cache)

    # --- people -------------------------------------------------------------------------------

    def find_person_by_email(self, email: str) -> Person | None:
        return self.users.find_by_email(email)

    def person(self, person_id: str) -> Person | None:
        return self._cache.read(("person", person_id), lambda: self.users.person(person_id))

    def sessions(self, person_id: str) -> list[AccountSession]:
        return self.users.sessions(person_id)  # live: never cached

    def end_session(self, session_id: str) -> None:
        self.users.end_session(session_id)

    # Page reads, cached during GET requests (read_cache: exact at the next request).

    def person_page(self, person_id: str, siren: str | None = None) -> PersonPage | None:
        page = self._cache.read(
            ("person_page", person_id, siren), lambda: self.pages.person_page(person_id, siren)
        )
        # Copies of its containers: the cached page is shared by the requests of this process.
        return page and replace(
            page,
            adherents=dict(page.adherents),
            members=None if page.members is None else list(page.members),
        )

    def people_with(self, attribute: str, scope: Scope) -> list[Person]:
        return self.users.people_with(attribute, str(scope))

    def realm_roles(self, person_id: str) -> frozenset[str]:
        return self._cache.read(
            ("realm_roles", person_id), lambda: self.users.realm_roles(person_id)
        )

    # --- functions and requests -----------------------------------------------------------------

    # Facade: Contacts.add_functions' signature, repeated while callers move to the resources.
    def add_functions(
        self,
        details: ContactDetails,
        functions: Collection[Function],
        scope: Scope,
        change: Change,
        vet: Vet = _accept,
    ) -> Person:
        return self.contacts.add_functions(details, functions, scope, change, vet)

    def update_contact(
        self,
        person_id: str,
        scope: Scope,
        functions: Mapping[Function, bool],
        change: Change,
        details: ContactDetails | None = None,
    ) -> Person:
        return self.contacts.update_contact(person_id, scope, functions, change, details)

    def add_request(
        self,
        details: ContactDetails,
        scope: Scope,
        requested_by: str,
        change: Change,
        vet: Vet = _accept,
        without_account: bool = False,
    ) -> tuple[Person, CollectionRequest]:
        return self.contacts.add_request(
            details, scope, requested_by, change, vet, without_account=without_account
        )

    def withdraw_request(self, person_id: str, request_id: str, change: Change) -> None:
        self.contacts.withdraw_request(person_id, request_id, change)

    def requests_on(self, scope: Scope) -> list[tuple[Person, CollectionRequest]]:
        return self.contacts.requests_on(scope)

    def pending_requests(self) -> list[tuple[Person, CollectionRequest]]:
        return list(self._cache.read(("pending_requests",), self.contacts.pending_requests))

    def decide_request(
        self, person_id: str, request_id: str, accept: bool, reason: str, change: Change
    ) -> tuple[Person, CollectionRequest]:
        return self.contacts.decide_request(person_id, request_id, accept, reason, change)

    def revoke_collection(self, person_id: str, scope: Scope, change: Change) -> Person:
        return self.contacts.revoke_collection(person_id, scope, change)

    def change_email(self, person_id: str, email: str, change: Change) -> Person:
        return self.contacts.change_email(person_id, email, change)

    # --- groups -------------------------------------------------------------------------------

    def adherent(self, siren: str) -> Adherent | None:
        return self._cache.read(("adherent", siren), lambda: self.groups.adherent(siren))

    def person_adherents(self, person_id: str) -> dict[str, Adherent]:
        return self.groups.person_adherents(person_id)

    def leave_adherent(self, person_id: str, adherent: Adherent) -> None:
        self.groups.leave(person_id, adherent.group_id)

    def coordinated_groupements(self, person_id: str) -> frozenset[str]:
        return self._cache.read(
            ("coordinated_groupements", person_id),
            lambda: self.groups.coordinated_groupements(person_id),
        )

    def groupements(self) -> list[str]:
        """Codes of every groupement (top-level groups but the coordinators' markers)."""
        # A copy: the cached list is shared by the requests of this process.
        return list(
            self._cache.read(
                ("groupements",),
                lambda: sorted(str(group["name"]) for group in self.groups.groupements()),
            )
        )

    def groupement_exists(self, code: str) -> bool:
        return self.groups.groupement(code) is not None

    def groupement_adherents(self, code: str) -> list[Adherent] | None:
        """The adherents of a groupement sorted by SIREN; None when it does not exist."""

        def read() -> list[Adherent] | None:
            group = self.groups.groupement(code)
            if group is None:
                return None
            adherents = self.groups.adherents_of(code, str(group["id"]))
            return sorted(adherents.values(), key=lambda adherent: adherent.siren)

        adherents = self._cache.read(("groupement_adherents", code), read)
        return None if adherents is None else list(adherents)

    def adherent_members(self, adherent: Adherent) -> list[Person]:
        return list(
            self._cache.read(
                ("adherent_members", adherent.group_id), lambda: self.groups.members(adherent)
            )
        )

    def groupement_activations(self, code: str, adherents: int) -> Activations | None:
        # Activations are changes Keycloak notifies (a password chosen on the login pages); the
        # last sign-ins are not, and may show up to PAGE_CACHE_SECONDS late on this page.
        activations = self._cache.read(
            ("groupement_activations", code, adherents),
            lambda: self.groups.activations(code, adherents),
        )
        return None if activations is None else dict(activations)

    def ensure_principal(self, scope: Scope, person_id: str) -> bool:
        return self.invitations.ensure_principal(scope, person_id)

    # --- realm, events ------------------------------------------------------------------------

    def invitation_lifespan(self) -> int:
        return self.realm.invitation_lifespan()

    def derived(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """A value computed from page reads only (a rendered follow-up), kept like them: under
        the generation read before computing it, so never served after a change."""
        return self._cache.read(("derived", *key), compute)

    def everyone(self) -> Iterator[Person]:
        return self.users.everyone()

    def current_terms_version(self) -> str | None:
        return self._cache.read(("current_terms_version",), self.realm.current_terms_version)

    def diagnosis(self, email: str) -> Diagnosis:
        """Kept until the realm changes, like the pages. A lock begins with Keycloak's
        USER_DISABLED_BY_TEMPORARY_LOCKOUT event (or the permanent one), which it notifies once
        its record is written; a lock ends by time, which nobody notifies: a locked person's
        access is read again at each request. The last sign-in (LOGIN events are not notified:
        every sign-in would call the portal) may show up to PAGE_CACHE_SECONDS late, as on the
        follow-up page."""
        recorded = self._cache.read(
            ("diagnosis", email.casefold()), lambda: self.events.recorded(email)
        )
        if recorded.person is None:
            return recorded
        person_id = recorded.person.id
        access = self._cache.read(
            ("access", person_id),
            lambda: self.events.access(person_id),
            keep=lambda read: not read.locked,
        )
        return access.applied_to(recorded)

    def unlock(self, person_id: str) -> None:
        self.events.unlock(person_id)

    def history(self, person_ids: Collection[str], limit: int = 100) -> list[HistoryEntry]:
        return self.events.history(person_ids, limit)

    def activated_at(self, person_id: str) -> datetime | None:
        return self.events.activated_at(person_id)

    def last_login(self, person_id: str) -> datetime | None:
        return self.events.last_login(person_id)

    # --- invitations --------------------------------------------------------------------------

    def invite(
        self, person_id: str, redirect_uri: str, change: Change, lifespan: int | None = None
    ) -> Invitation:
        return self.invitations.invite(person_id, redirect_uri, change, lifespan)

    # Facade: Invitations.grant_collection's signature, repeated while callers move.
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
        return self.invitations.grant_collection(
            person_id, scope, redirect_uri, change, request_id, created, before_inviting
        )

    # --- bulk import --------------------------------------------------------------------------

    def import_state(
        self, groupement: str, emails: Collection[str], sirens: Collection[str] = ()
    ) -> Existing:
        return self.bulk.import_state(groupement, emails, sirens)

    # Facade: BulkWriter.apply_import's signature, repeated while callers move.
    def apply_import(
        self,
        plan: Plan,
        redirect_uri: str,
        change: Change,
        *,
        invite: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> Outcome:
        return self.bulk.apply_import(plan, redirect_uri, change, invite=invite, progress=progress)
