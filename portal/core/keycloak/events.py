"""What Keycloak recorded about people: admin events (the support history), sign-in events (last
login), brute-force locks, and the diagnosis of why an e-mail can or cannot sign in."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from portal.core.domain import Diagnosis, HistoryEntry
from portal.core.keycloak import schema, support_admin
from portal.core.keycloak.connection import Connection
from portal.core.keycloak.groups import Groups
from portal.core.keycloak.mapping import from_millis
from portal.core.keycloak.realm import Realm
from portal.core.keycloak.users import Users


@dataclass(frozen=True, slots=True)
class Access:
    """What changes a person's access without any admin change to the realm."""

    locked: bool
    locked_until: datetime | None
    last_login: datetime | None

    def applied_to(self, diagnosis: Diagnosis) -> Diagnosis:
        return replace(
            diagnosis,
            locked=self.locked,
            locked_until=self.locked_until,
            last_login=self.last_login,
        )


class Events:
    def __init__(self, connection: Connection, users: Users, groups: Groups, realm: Realm):
        self._kc = connection
        self._users = users
        self._groups = groups
        self._realm = realm

    def last_login(self, person_id: str) -> datetime | None:
        """The person's latest successful sign-in, from the recorded LOGIN events (one call:
        Keycloak 26 keeps no last sign-in on the user)."""
        logins = self._kc.get_json("events", user=person_id, type="LOGIN", first=0, max=1)
        return from_millis(logins[0]["time"]) if logins else None

    def activated_at(self, person_id: str) -> datetime | None:
        """When the person chose their password (their client space was activated), if ever.
        Keycloak's user representation says nothing about passwords (`requiredActions` without
        UPDATE_PASSWORD proves nothing), so this reads the person's credentials: one call."""
        created = self._users.password_created(person_id)
        return from_millis(created) if created is not None else None

    def unlock(self, person_id: str) -> None:
        """Lift a temporary lock left by repeated wrong passwords."""
        self._kc.delete(f"attack-detection/brute-force/users/{person_id}")

    def recorded(self, email: str) -> Diagnosis:
        """The diagnosis but for the lock and the last sign-in: only what a change of the realm
        changes (the person, their password, roles and groups, the CGU version), which Keycloak
        notifies (:mod:`portal.core.keycloak.read_cache`)."""
        person = self._users.find_by_email(email)
        if person is None:
            return Diagnosis(email=email, person=None)
        created = self._users.password_created(person.id)
        return Diagnosis(
            email=person.email,
            person=person,
            activated_at=from_millis(created) if created else None,
            pending_actions=person.required_actions,
            invitation=person.invitation,
            is_staff=schema.STAFF_ROLE in self._users.realm_roles(person.id),
            current_terms_version=self._realm.current_terms_version(),
            memberships=self._groups.person_adherents(person.id),
        )

    def access(self, person_id: str) -> Access:
        """A lock set by wrong passwords (or lifted by time), and the last sign-in: two calls."""
        lock = self._kc.get_json(f"attack-detection/brute-force/users/{person_id}")
        locked = bool(lock.get("disabled"))
        until = None
        if locked and lock.get("lastFailure"):
            # Keycloak tells the last failure, not the end of the wait: the longest wait after it.
            longest = int(self._realm.representation().get("maxFailureWaitSeconds") or 900)
            until = from_millis(int(lock["lastFailure"])) + timedelta(seconds=longest)
        return Access(locked=locked, locked_until=until, last_login=self.last_login(person_id))

    def history(self, person_ids: Collection[str], limit: int = 100) -> list[HistoryEntry]:
        """Recorded changes to these people, newest first: Keycloak's admin events, each naming
        the caller Keycloak recorded (:func:`portal.core.keycloak.support_admin.entry`)."""
        entries = []
        names: dict[str, str] = {}
        portal = self._realm.portal_caller()
        for person_id in person_ids:
            events = self._kc.get_json(
                "admin-events", resourcePath=f"users/{person_id}*", first=0, max=limit
            )
            target = self._name_of(person_id, names)
            entries += [
                support_admin.entry(event, target, portal, lambda uid: self._name_of(uid, names))
                for event in events
            ]
        return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]

    def _name_of(self, person_id: str, known: dict[str, str]) -> str:
        """A user of the realm as the history names them: e-mail, else username (a service
        account), else their id (deleted since)."""
        if person_id not in known:
            user = self._users.representation(person_id) if person_id else None
            known[person_id] = (
                str(user.get("email") or user.get("username") or person_id) if user else person_id
            )
        return known[person_id]
