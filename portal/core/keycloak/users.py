"""People (Keycloak users): finding them, reading them, and the one conditional write.

Every write goes through :meth:`Users.write`: read, apply an edit, write back with the revision
read, redo on a new read if someone wrote in between (:mod:`portal.core.keycloak.revisions`), and
record who changed the person (``derniereModification``). :meth:`Users.undo` puts back what one
write changed and nobody changed since.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator
from typing import Any

from portal.core.domain import AccountSession, Adherent, Change, ContactDetails, Person
from portal.core.errors import ConcurrentChange, KeycloakRefused, UnknownPerson
from portal.core.keycloak import mapping, revisions, schema
from portal.core.keycloak.connection import Connection, keycloak_errors, refused
from portal.core.keycloak.mapping import UserEdit

#: How many people one SIREN/lot search returns at most (a lot has a handful of contacts).
SEARCH_LIMIT = 500
#: The extension's read of the people who have given addresses (keycloak/providers,
#: PageReadResource), and how many addresses it takes per call (its MAX_EMAILS).
BY_EMAIL_PATH = "collecte-pages/people/by-email"
BY_EMAIL_PAGE = 1000
#: A write: the representation it was based on, and the one written.
Written = tuple[dict[str, Any], dict[str, Any]]


# Each resource keeps the shared connection the same way (see connection.py).
class Users:
    def __init__(self, connection: Connection) -> None:
        self._kc = connection
        self._admin = connection.admin

    # --- reading ------------------------------------------------------------------------------

    def representation(self, person_id: str) -> dict[str, Any] | None:
        try:
            with keycloak_errors():
                return dict(self._admin.get_user(person_id))
        except KeycloakRefused as error:
            if refused(error, 404):
                return None
            raise

    def person(self, person_id: str) -> Person | None:
        representation = self.representation(person_id)
        return Person.from_representation(representation) if representation else None

    def find_by_email(self, email: str) -> Person | None:
        """The person whose e-mail is exactly ``email`` (case-insensitive), if any."""
        wanted = email.strip()
        if not wanted:
            return None
        users = self._search({"email": wanted, "exact": "true", "first": 0, "max": 2})
        # Keycloak stores e-mails in lower case; the realm forbids duplicate e-mails,
        # so at most one user matches. Compare again rather than trust the search.
        for user in users:
            if str(user.get("email") or "").casefold() == wanted.casefold():
                return Person.from_representation(user)
        return None

    def people_with(self, attribute: str, value: str, recheck: bool = True) -> list[Person]:
        """Everyone whose multivalued ``attribute`` holds ``value`` (exact)."""
        users = self._search({"q": f"{attribute}:{value}", "first": 0, "max": SEARCH_LIMIT})
        # The search is exact in Keycloak 26; checking again costs nothing.
        return [
            Person.from_representation(user)
            for user in users
            if not recheck or value in (user.get("attributes") or {}).get(attribute, [])
        ]

    def find_by_emails(self, emails: Collection[str]) -> dict[str, Person] | None:
        """E-mail (case folded) → person, for those of ``emails`` who have an account: the
        extension's ``collecte-pages/people/by-email`` read, ``BY_EMAIL_PAGE`` addresses per
        call. None when this Keycloak does not answer that read (an image that predates it)."""
        wanted = sorted({email.casefold() for email in emails})
        found: dict[str, Person] = {}
        for start in range(0, len(wanted), BY_EMAIL_PAGE):
            try:
                users = self._kc.post_json(BY_EMAIL_PATH, wanted[start : start + BY_EMAIL_PAGE])
            except KeycloakRefused as error:
                if refused(error, 404):
                    return None
                raise
            for user in users:
                person = Person.from_representation(user)
                found[person.email.casefold()] = person
        return found

    def everyone(self) -> Iterator[Person]:
        """Every person of the realm, read page by page (a rare scan, such as a notice to all)."""
        for user in self._kc.pages("users", briefRepresentation="false"):
            yield Person.from_representation(user)

    def account_id(self, username: str) -> str:
        """The id of the user with exactly this username (a service account)."""
        users = self._search({"username": username, "exact": "true", "first": 0, "max": 2})
        [account] = [user for user in users if user.get("username") == username]
        return str(account["id"])

    def password_created(self, person_id: str) -> Any:
        """When the person chose their password, in Keycloak's milliseconds; None if never.
        The user representation says nothing of passwords: this reads the credentials."""
        with keycloak_errors():
            credentials = self._admin.get_credentials(person_id)
        password = next((c for c in credentials if c.get("type") == "password"), None)
        return password.get("createdDate") if password else None

    def has_password(self, person_id: str) -> bool:
        with keycloak_errors():
            credentials = self._admin.get_credentials(person_id)
        return any(credential.get("type") == "password" for credential in credentials)

    def sessions(self, person_id: str) -> list[AccountSession]:
        """The person's Keycloak sessions, the most recently used first."""
        found = [
            AccountSession(
                str(item["id"]),
                str(item.get("ipAddress") or ""),
                mapping.from_millis(item["start"]),
                mapping.from_millis(item["lastAccess"]),
                tuple(sorted(str(c) for c in (item.get("clients") or {}).values())),
            )
            for item in self._kc.get_json(f"users/{person_id}/sessions")
        ]
        return sorted(found, key=lambda found: found.last_access_at, reverse=True)

    def end_session(self, session_id: str) -> None:
        """What Keycloak's « sign out » of one session does (clients told by back-channel)."""
        self._kc.delete(f"sessions/{session_id}")

    def realm_roles(self, person_id: str) -> frozenset[str]:
        """The person's effective realm roles (composites included)."""
        with keycloak_errors():
            roles = self._admin.get_composite_realm_roles_of_user(person_id)
        return frozenset(str(role["name"]) for role in roles)

    def _search(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        with keycloak_errors():
            return list(self._admin.get_users(query))

    # --- writing ------------------------------------------------------------------------------

    def create(self, details: ContactDetails, adherent: Adherent, attributes: Any) -> Person:
        """Create the person, their attributes and their membership of the adherent's group in
        one call: nothing half-made is left if it fails. ``attributes`` include the audit line."""
        path = schema.adherent_path(adherent.groupement, adherent.siren)
        with keycloak_errors():
            person_id = str(self._admin.create_user(mapping.new_user(details, attributes, path)))
        person = self.person(person_id)
        if person is None:
            raise UnknownPerson(person_id)
        return person

    def create_raw(self, representation: dict[str, Any]) -> str:
        """Create a user from a full representation; returns their id."""
        with keycloak_errors():
            return str(self._admin.create_user(representation))

    def delete(self, person_id: str) -> None:
        with keycloak_errors():
            self._admin.delete_user(person_id)

    def update(
        self,
        person_id: str,
        edit: UserEdit,
        change: Change,
        current: dict[str, Any] | None = None,
    ) -> Person:
        """:meth:`write`, returning the person as written."""
        _, written = self.write(person_id, edit, change, current)
        return Person.from_representation({**written, "id": person_id})

    def write(
        self,
        person_id: str,
        edit: UserEdit,
        change: Change | None,
        current: dict[str, Any] | None = None,
    ) -> Written:
        """Apply ``edit`` to the person as read (``current`` if the caller just read it) and
        write it back with the revision read; if someone changed the person meanwhile, read
        again and redo: ``edit`` may run more than once. Returns the representation the write
        was based on and the one written. ``change``: the audit line (None: ``edit`` sets it,
        as :meth:`undo` does)."""
        for attempt in range(revisions.WRITE_ATTEMPTS):
            revisions.back_off(attempt)
            representation = current if current is not None else self.representation(person_id)
            current = None
            if representation is None:
                raise UnknownPerson(person_id)
            base = mapping.writable(copy.deepcopy(representation))
            updated = copy.deepcopy(base)
            edit(updated)
            if change is not None:
                updated.setdefault("attributes", {})[schema.LAST_CHANGE] = [change.to_json()]
            try:
                with keycloak_errors():
                    self._admin.update_user(person_id, updated)
            except KeycloakRefused as error:
                if revisions.stale_user_write(error):
                    continue
                raise
            return base, updated
        raise ConcurrentChange(person_id)

    def undo(self, person_id: str, written: Written) -> None:
        """Put back what a write (``before`` → ``written``) changed, where nobody changed it
        since."""
        before, ours = written
        self.write(person_id, lambda now: revisions.undo(now, before, ours), None)
