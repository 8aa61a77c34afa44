"""The one module that talks to the Keycloak Admin API.

Views never build Keycloak URLs or JSON: they call :func:`get_gateway` and get
domain objects (:class:`Person`) back, or :class:`KeycloakUnavailable` when
Keycloak cannot answer. Nothing here sets, reads or transmits a password.

Token reuse (checked in python-keycloak 7.1.1, ``keycloak/openid_connection.py``):
``KeycloakOpenIDConnection`` fetches a service-account token with the
client-credentials grant on the first call (a new connection has
``expires_at == now``), keeps it, and before every ``raw_get``/``raw_post``/
``raw_put``/``raw_delete`` calls ``_refresh_if_required``, which fetches a new
one only once 90 % of ``expires_in`` has passed (``token_lifetime_fraction``).
It also retries a request once after a new token if Keycloak answers 401.
Client-credentials tokens have no refresh token in Keycloak by default, so
"refresh" means a new client-credentials grant. One gateway is kept per
application (``app.extensions``), hence one token per worker process.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import quote

from keycloak.exceptions import (
    KeycloakConnectionError,
    KeycloakDeleteError,
    KeycloakError,
    KeycloakGetError,
    KeycloakPostError,
    KeycloakPutError,
    raise_error_from_response,
)

# Imported from their modules rather than from "keycloak": the repository's own
# keycloak/ folder (themes) makes ruff's isort take a bare "keycloak" for first-party.
from keycloak.keycloak_admin import KeycloakAdmin
from keycloak.openid_connection import KeycloakOpenIDConnection

from portal.core.domain import (
    CURRENT_TERMS_VERSION,
    INVITATION_EXPIRES,
    INVITATION_SENT,
    SIREN_PATTERN,
    TERMS_VERSION,
    Adherent,
    Change,
    CollectionRequest,
    ContactDetails,
    Diagnosis,
    Function,
    HistoryEntry,
    Invitation,
    Person,
    RequestStatus,
    Scope,
)
from portal.core.keycloak import revisions, support_admin
from portal.core.keycloak.revisions import ConcurrentChange
from portal.core.services.bulk import Existing, Kind, Outcome, PersonUpdate, Plan, ReportLine

__all__ = ["ConcurrentChange"]  # raised by the writes below; the web layer maps it

#: How many people one SIREN/lot search returns at most (a lot has a handful of contacts).
SEARCH_LIMIT = 500
#: Set ("oui") on a person while one of their requests waits for support.
PENDING_MARKER = "demandeCollecteEnAttente"
#: What the invitation asks: choose a password, accept the CGU, confirm the e-mail address.
INVITATION_ACTIONS = ("UPDATE_PASSWORD", "TERMS_AND_CONDITIONS", "VERIFY_EMAIL")
DEFAULT_INVITATION_LIFESPAN = 7 * 24 * 3600
#: Parent of the marker groups `/coordonnateurs/<groupement>` (see collecte_kc.coordinators).
COORDINATORS_GROUP = "coordonnateurs"
#: Bulk import: people per partial-import call (each call stays well under the clients' 10 s
#: timeout: python-keycloak retries a POST that timed out, and a second import running beside
#: the first fails on H2's table locks), and page size when listing users or groups.
IMPORT_CHUNK = 100
IMPORT_PAGE = 1000
SEARCHES_PER_PAGE = 25
# Invitations sent at once by a bulk import: enough to overlap Keycloak's work on each e-mail,
# few enough not to flood the mail relay.
INVITATION_WORKERS = 4


class KeycloakUnavailable(Exception):
    """Keycloak could not be reached, timed out or answered with a server error (5xx)."""


class UnknownAdherent(Exception):
    """No adherent group exists for this SIREN."""


class UnknownPerson(Exception):
    """No person has this id."""


class UnknownGroupement(Exception):
    """No top-level group has this code."""


@dataclass(frozen=True)
class Grant:
    """What granting the collection function did."""

    person: Person
    made_principal: bool
    invitation: Invitation | None


class UnknownRequest(Exception):
    """No pending request has this id on this person."""


class InvitationNotSent(Exception):
    """Keycloak could not send the invitation e-mail (its SMTP server refused or is down)."""


@contextmanager
def _keycloak_errors() -> Iterator[None]:
    """Turn "Keycloak is down" errors into :class:`KeycloakUnavailable`.

    Other python-keycloak errors (4xx: bad request, forbidden, conflict...) are
    programming or configuration errors and propagate unchanged.
    """
    try:
        yield
    except KeycloakConnectionError as exc:
        raise KeycloakUnavailable("Keycloak is unreachable") from exc
    except KeycloakError as exc:
        if exc.response_code is not None and exc.response_code >= 500:
            raise KeycloakUnavailable(f"Keycloak answered HTTP {exc.response_code}") from exc
        raise


class KeycloakGateway:
    """Typed access to the Keycloak Admin API of one realm."""

    def __init__(self, admin: KeycloakAdmin, portal_client_id: str = "collecte-portail") -> None:
        self._admin = admin
        self._portal_client_id = portal_client_id
        self._realm = str(admin.connection.realm_name)
        self._partial_import: bool | None = None  # whether this account may use it, once known
        self._portal_account: support_admin.PortalAccount | None = None  # see _portal_caller

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KeycloakGateway:
        """Build a gateway authenticated as the ``ADMIN_CLIENT_ID`` service account."""
        connection = KeycloakOpenIDConnection(
            # python-keycloak joins relative paths to this URL: keep one trailing slash.
            server_url=str(config["KEYCLOAK_URL"]).rstrip("/") + "/",
            realm_name=config["KEYCLOAK_REALM"],
            client_id=config["ADMIN_CLIENT_ID"],
            client_secret_key=config["ADMIN_CLIENT_SECRET"],
            grant_type="client_credentials",
            timeout=int(config["KEYCLOAK_TIMEOUT"]),
            verify=True,
        )
        return cls(
            KeycloakAdmin(connection=connection),
            str(config.get("OIDC_CLIENT_ID") or "collecte-portail"),
        )

    def find_person_by_email(self, email: str) -> Person | None:
        """Return the person whose e-mail is exactly ``email`` (case-insensitive), if any."""
        wanted = email.strip()
        if not wanted:
            return None
        with _keycloak_errors():
            users = self._admin.get_users(
                {"email": wanted, "exact": "true", "first": 0, "max": 2},
            )
        # Keycloak stores e-mails in lower case; the realm forbids duplicate e-mails,
        # so at most one user matches. Compare again rather than trust the search.
        for user in users:
            if str(user.get("email") or "").casefold() == wanted.casefold():
                return Person.from_representation(user)
        return None

    # --- reading -------------------------------------------------------------------------

    def person(self, person_id: str) -> Person | None:
        representation = self._user(person_id)
        return Person.from_representation(representation) if representation else None

    def people_with(self, attribute: str, scope: Scope) -> list[Person]:
        """Everyone whose multivalued `attribute` holds `scope` (exact value)."""
        with _keycloak_errors():
            users = self._admin.get_users(
                {"q": f"{attribute}:{scope}", "first": 0, "max": SEARCH_LIMIT}
            )
        # The search is exact in Keycloak 26; checking again costs nothing.
        return [
            Person.from_representation(user)
            for user in users
            if str(scope) in (user.get("attributes") or {}).get(attribute, [])
        ]

    def adherent(self, siren: str) -> Adherent | None:
        """The adherent group `/<groupement>/<siren>`, wherever its groupement is."""
        with _keycloak_errors():
            groups = self._admin.get_groups(
                {"search": siren, "exact": "true", "briefRepresentation": "false"}
            )
        for groupement in groups:
            for group in groupement.get("subGroups") or []:
                if group.get("name") == siren:
                    return _adherent(groupement, group)
        return None

    def person_adherents(self, person_id: str) -> dict[str, Adherent]:
        """SIREN → adherent group `/<groupement>/<SIREN>` the person is a member of, with its
        attributes (lots, principals): what :mod:`portal.core.authority` needs besides the person's
        own attributes. One call (paged)."""
        groups = self._paged(f"users/{person_id}/groups", briefRepresentation="false")
        return adherent_groups(groups)

    def leave_adherent(self, person_id: str, adherent: Adherent) -> None:
        """Take the person out of the adherent's group (leaving a group one is not in is a 404
        in Keycloak: nothing to do)."""
        try:
            with _keycloak_errors():
                self._admin.group_user_remove(person_id, adherent.group_id)
        except KeycloakError as error:
            if error.response_code != 404:
                raise

    # --- writing: every write carries `derniereModification` (who, when, what) ------------

    def add_functions(
        self,
        details: ContactDetails,
        functions: Collection[Function],
        scope: Scope,
        change: Change,
        vet: Callable[[Person], None] = lambda person: None,
    ) -> Person:
        """Give `functions` on `scope` to the person with this e-mail, creating them if new,
        in one write (plus joining the adherent's group for a person new to this SIREN).

        One e-mail is one person: an existing person keeps their names and phones and only
        gains the functions. ``vet`` sees an existing person before anything is written and
        may refuse by raising."""
        adherent = self._require_adherent(scope.siren)
        existing = self.find_person_by_email(details.email)
        if existing is not None:
            vet(existing)
        if existing is None:
            attributes = {function.value: [str(scope)] for function in functions}
            return self._create_person(details, adherent, attributes, change)
        if all(existing.holds(function, scope) for function in functions):
            # A value without membership of the adherent's group gives nothing
            # (portal.core.authority): joining the group is what the member asked for.
            with _keycloak_errors():
                self._admin.group_user_add(existing.id, adherent.group_id)
            return existing

        def grant(attributes: dict[str, list[str]]) -> None:
            for function in functions:
                _add_value(attributes, function.value, scope)

        return self._extend_person(existing.id, adherent, grant, change)

    def update_contact(
        self,
        person_id: str,
        scope: Scope,
        functions: Mapping[Function, bool],
        change: Change,
        details: ContactDetails | None = None,
    ) -> Person:
        """In one write: add or remove each listed function on `scope` and, when given, change
        names and phones (never the e-mail, which is the person's identifier)."""
        return self._update_user(person_id, _contact_edit(scope, functions, details), change)

    def add_request(
        self,
        details: ContactDetails,
        scope: Scope,
        requested_by: str,
        change: Change,
        vet: Callable[[Person], None] = lambda person: None,
    ) -> tuple[Person, CollectionRequest]:
        """Record a pending request that this person become a collection contact; an existing
        person keeps their identity. ``vet``: as for :meth:`add_functions`."""
        adherent = self._require_adherent(scope.siren)
        request = CollectionRequest(
            id=str(uuid.uuid4()), scope=scope, requested_by=requested_by, requested_at=change.at
        )

        def record(attributes: dict[str, list[str]]) -> None:
            _store_requests(attributes, [*_requests(attributes), request])

        existing = self.find_person_by_email(details.email)
        if existing is not None:
            vet(existing)
        if existing is None:
            attributes: dict[str, list[str]] = {}
            record(attributes)
            person = self._create_person(details, adherent, attributes, change)
        else:
            person = self._extend_person(existing.id, adherent, record, change)
        return person, request

    def withdraw_request(self, person_id: str, request_id: str, change: Change) -> None:
        """Remove a request record (used to undo one whose notification could not be sent)."""

        def edit(representation: dict[str, Any]) -> None:
            attributes = representation.setdefault("attributes", {})
            _store_requests(attributes, [r for r in _requests(attributes) if r.id != request_id])

        self._update_user(person_id, edit, change)

    def requests_on(self, scope: Scope) -> list[tuple[Person, CollectionRequest]]:
        found = [
            (person, request)
            for person in self.people_with("demandeCollecteSur", scope)
            for request in person.requests
            if request.scope == scope
        ]
        return sorted(found, key=lambda pair: pair[1].requested_at, reverse=True)

    def pending_requests(self) -> list[tuple[Person, CollectionRequest]]:
        """Every request still waiting for support, newest first."""
        with _keycloak_errors():
            users = self._admin.get_users(
                {"q": f"{PENDING_MARKER}:oui", "first": 0, "max": SEARCH_LIMIT}
            )
        found = [
            (person, request)
            for person in map(Person.from_representation, users)
            for request in person.requests
            if request.status is RequestStatus.PENDING
        ]
        return sorted(found, key=lambda pair: pair[1].requested_at, reverse=True)

    # --- support ---------------------------------------------------------------------------

    def realm_roles(self, person_id: str) -> frozenset[str]:
        """The person's effective realm roles (composites included)."""
        with _keycloak_errors():
            roles = self._admin.get_composite_realm_roles_of_user(person_id)
        return frozenset(str(role["name"]) for role in roles)

    def coordinated_groupements(self, person_id: str) -> frozenset[str]:
        """Codes of the groupements this person coordinates: their `/coordonnateurs/<code>`
        marker groups (the same groups the admin-console permissions are granted to)."""
        with _keycloak_errors():
            groups = self._admin.get_user_groups(person_id, brief_representation=True)
        prefix = f"/{COORDINATORS_GROUP}/"
        return frozenset(
            str(group["path"]).removeprefix(prefix)
            for group in groups
            if str(group.get("path", "")).startswith(prefix)
        )

    def groupements(self) -> list[str]:
        """Codes of every groupement (top-level groups but the coordinators' markers)."""
        with _keycloak_errors():
            groups = self._admin.get_groups({"briefRepresentation": "true"})
        return sorted(
            str(group["name"]) for group in groups if group.get("name") != COORDINATORS_GROUP
        )

    def invitation_lifespan(self) -> int:
        """Seconds an invitation link stays valid: the realm's setting for admin-sent links."""
        with _keycloak_errors():
            realm = self._admin.get_realm(self._realm)
        return int(realm.get("actionTokenGeneratedByAdminLifespan") or DEFAULT_INVITATION_LIFESPAN)

    def current_terms_version(self) -> str | None:
        """The CGU version in force: the realm attribute the provisioning writes."""
        with _keycloak_errors():
            realm = self._admin.get_realm(self._realm)
        version = str((realm.get("attributes") or {}).get(CURRENT_TERMS_VERSION) or "").strip()
        return version or None

    def invite(
        self, person_id: str, redirect_uri: str, change: Change, lifespan: int | None = None
    ) -> Invitation:
        """Send the invitation e-mail (choose a password, accept the CGU, confirm the e-mail).

        The sending time is recorded first: the Keycloak extension refuses any invitation link
        issued before it, so a new invitation makes the older links stop working. If the mail
        cannot be sent, the record is put back as it was. ``lifespan``: the realm's
        :meth:`invitation_lifespan`, when the caller already read it (bulk import)."""
        before = self._user(person_id)
        if before is None:
            raise UnknownPerson(person_id)
        if lifespan is None:
            lifespan = self.invitation_lifespan()
        sent_at = change.at
        invitation = Invitation(sent_at, sent_at + timedelta(seconds=lifespan))

        def record(representation: dict[str, Any]) -> None:
            attributes = representation.setdefault("attributes", {})
            attributes[INVITATION_SENT] = [str(int(invitation.sent_at.timestamp()))]
            attributes[INVITATION_EXPIRES] = [str(int(invitation.expires_at.timestamp()))]

        base, written = self._write_user(person_id, record, change, before)
        try:
            self._admin.send_update_account(
                user_id=person_id,
                payload=list(INVITATION_ACTIONS),
                client_id=self._portal_client_id,
                lifespan=lifespan,
                redirect_uri=redirect_uri,
            )
        except KeycloakError as error:
            self._undo_user(person_id, base, written)
            if isinstance(error, KeycloakConnectionError):
                raise KeycloakUnavailable("Keycloak is unreachable") from error
            # Keycloak answers 500 "Failed to send execute actions email" when its SMTP fails.
            raise InvitationNotSent(str(error)) from error
        return invitation

    def decide_request(
        self, person_id: str, request_id: str, accept: bool, reason: str, change: Change
    ) -> tuple[Person, CollectionRequest]:
        """Accept (the person becomes collection contact for the scope) or refuse, in one write."""
        edit, decided = _decision_edit(request_id, accept, reason, change)
        person = self._update_user(person_id, edit, change)
        return person, decided[0]

    def grant_collection(
        self,
        person_id: str,
        scope: Scope,
        redirect_uri: str,
        change: Change,
        request_id: str | None = None,
        created: bool = False,
        before_inviting: Callable[[], None] = lambda: None,
    ) -> Grant:
        """Make the person a collection contact for `scope` (accepting `request_id` if given),
        principal of the SIREN/lot if it has none, and invite them if their client space is not
        active yet. If any step fails, every earlier one is undone: a person `created` for this
        grant is deleted, otherwise what this grant changed on their record is put back (a
        change someone else made meanwhile stays). ``before_inviting`` is called before anything
        is written when an invitation will be sent, and may refuse by raising (abuse limits)."""
        before = self._user(person_id)
        if before is None:
            raise UnknownPerson(person_id)
        inviting = not self._has_password(person_id)
        if inviting:
            before_inviting()
        made_principal = False
        written: tuple[dict[str, Any], dict[str, Any]] | None = None
        try:
            if request_id is None:
                edit = _contact_edit(scope, {Function.COLLECTE: True}, None)
            else:
                edit, _ = _decision_edit(request_id, True, "", change)
            written = self._write_user(person_id, edit, change, before)
            granted = Person.from_representation({**written[1], "id": person_id})
            with _keycloak_errors():  # joining a group one is already in changes nothing
                self._admin.group_user_add(person_id, self._require_adherent(scope.siren).group_id)
            made_principal = self.ensure_principal(scope, person_id)
            invitation = None
            if inviting:
                invitation = self.invite(person_id, redirect_uri, change)
        except Exception:
            if made_principal:
                self._drop_principal(scope, person_id)
            if created:
                with _keycloak_errors():
                    self._admin.delete_user(person_id)
            elif written is not None:
                self._undo_user(person_id, *written)
            raise
        return Grant(granted, made_principal, invitation)

    def _has_password(self, person_id: str) -> bool:
        with _keycloak_errors():
            credentials = self._admin.get_credentials(person_id)
        return any(credential.get("type") == "password" for credential in credentials)

    def _drop_principal(self, scope: Scope, person_id: str) -> None:
        """Undo :meth:`ensure_principal` of a grant that failed (only if still this person)."""
        key = f"principal.{scope.lot}"

        def drop(attributes: dict[str, list[str]]) -> bool:
            return attributes.get(key) == [person_id] and bool(attributes.pop(key))

        self._write_group(self._require_adherent(scope.siren).group_id, drop)

    def ensure_principal(self, scope: Scope, person_id: str) -> bool:
        """Make the person principal of the SIREN/lot unless it has one: written once, never
        changed afterwards (Keycloak refuses another person in place of a principal, and a
        write based on a read made before someone else's is done again on a new read). Returns
        whether this call made them principal."""
        adherent = self._require_adherent(scope.siren)
        if adherent.principal_id(scope.lot):
            return False
        key = f"principal.{scope.lot}"

        def claim(attributes: dict[str, list[str]]) -> bool:
            if attributes.get(key):
                return False
            attributes[key] = [person_id]
            return True

        return self._write_group(adherent.group_id, claim)

    def _write_group(self, group_id: str, edit: Callable[[dict[str, list[str]]], bool]) -> bool:
        """Read the group, let `edit` change its attributes (it returns False when there is
        nothing to write) and write it back conditionally (:mod:`portal.core.keycloak.revisions`);
        on a
        concurrent change, read it again and redo. Returns whether a write was made."""
        path = f"admin/realms/{self._realm}/collecte-revisions/groups/{group_id}"
        for attempt in range(revisions.WRITE_ATTEMPTS):
            revisions.back_off(attempt)
            with _keycloak_errors():
                group = copy.deepcopy(dict(self._admin.get_group(group_id)))
            if not edit(group.setdefault("attributes", {})):
                return False
            try:
                with _keycloak_errors():
                    response = self._admin.connection.raw_put(path, data=json.dumps(group))
                    raise_error_from_response(response, KeycloakPutError, expected_codes=[204])
            except KeycloakError as error:
                if revisions.stale_group_write(error):
                    continue
                raise
            return True
        raise ConcurrentChange(group_id)

    def diagnosis(self, email: str) -> Diagnosis:
        """Everything that decides whether this e-mail can sign in, read from Keycloak."""
        person = self.find_person_by_email(email)
        if person is None:
            return Diagnosis(email=email, person=None)
        with _keycloak_errors():
            credentials = self._admin.get_credentials(person.id)
            lock = self._get_json(f"attack-detection/brute-force/users/{person.id}")
            logins = self._get_json("events", user=person.id, type="LOGIN", first=0, max=1)
        password = next((c for c in credentials if c.get("type") == "password"), None)
        return Diagnosis(
            email=person.email,
            person=person,
            activated_at=_from_millis(password.get("createdDate")) if password else None,
            locked=bool(lock.get("disabled")),
            pending_actions=person.required_actions,
            last_login=_from_millis(logins[0].get("time")) if logins else None,
            invitation=person.invitation,
            is_staff="equipe-plateforme" in self.realm_roles(person.id),
            current_terms_version=self.current_terms_version(),
            memberships=self.person_adherents(person.id),
        )

    def unlock(self, person_id: str) -> None:
        """Lift a temporary lock left by repeated wrong passwords."""
        with _keycloak_errors():
            response = self._admin.connection.raw_delete(
                f"admin/realms/{self._realm}/attack-detection/brute-force/users/{person_id}"
            )
            raise_error_from_response(response, KeycloakDeleteError, expected_codes=[204])

    def history(self, person_ids: Collection[str], limit: int = 100) -> list[HistoryEntry]:
        """Recorded changes to these people, newest first: Keycloak's admin events, each naming
        the caller Keycloak recorded (:func:`portal.core.keycloak.support_admin.entry`)."""
        entries = []
        names: dict[str, str] = {}
        portal = self._portal_caller()
        for person_id in person_ids:
            with _keycloak_errors():
                events = self._get_json(
                    "admin-events", resourcePath=f"users/{person_id}*", first=0, max=limit
                )
            target = self._name_of(person_id, names)
            entries += [
                support_admin.entry(event, target, portal, lambda uid: self._name_of(uid, names))
                for event in events
            ]
        return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]

    def _portal_caller(self) -> support_admin.PortalAccount:
        """The portal's own caller in admin events: read once (the realm's id, the id of the
        admin client's service-account user), then kept."""
        if self._portal_account is None:
            username = support_admin.service_account_username(str(self._admin.connection.client_id))
            with _keycloak_errors():
                realm = self._admin.get_realm(self._realm)
                users = self._admin.get_users(
                    {"username": username, "exact": "true", "first": 0, "max": 2}
                )
            [account] = [u for u in users if u.get("username") == username]
            self._portal_account = support_admin.PortalAccount(str(realm["id"]), str(account["id"]))
        return self._portal_account

    # --- support: withdrawing a collection function, changing an e-mail ----------------------

    def revoke_collection(self, person_id: str, scope: Scope, change: Change) -> Person:
        """Remove the collection function on `scope`, in one write; the adherent's
        ``principal.<lot>`` (a group attribute) is left as it is."""
        return self._update_user(person_id, support_admin.withdraw_collection(scope), change)

    def change_email(self, person_id: str, email: str, change: Change) -> Person:
        """In one write: the new e-mail, not verified, and VERIFY_EMAIL asked at the next sign-in.
        Raises :class:`portal.core.keycloak.support_admin.EmailTaken` when Keycloak answers 409
        (someone has
        this address, perhaps since the form was checked)."""
        try:
            return self._update_user(person_id, support_admin.new_email(email), change)
        except KeycloakError as error:
            if error.response_code == 409:
                raise support_admin.EmailTaken(email) from error
            raise

    # --- a groupement's activation follow-up -----------------------------------------------

    def groupement_adherents(self, code: str) -> list[Adherent] | None:
        """The adherent groups `/<code>/<SIREN>` of a groupement (attributes included), sorted by
        SIREN; None when the groupement does not exist. One call for the groupement, then its
        children page by page."""
        try:
            with _keycloak_errors():
                groupement = self._get_json(f"group-by-path/{quote(code, safe='')}")
        except KeycloakError as error:
            if error.response_code == 404:
                return None
            raise
        children = self._paged(f"groups/{groupement['id']}/children", briefRepresentation="false")
        return sorted((_adherent(groupement, group) for group in children), key=lambda a: a.siren)

    def adherent_members(self, adherent: Adherent) -> list[Person]:
        """Everyone in the adherent's group, with their attributes (functions, invitation, CGU):
        one call per page of members rather than one search per SIREN/lot."""
        return [
            Person.from_representation(user)
            for user in self._paged(
                f"groups/{adherent.group_id}/members", briefRepresentation="false"
            )
        ]

    def activated_at(self, person_id: str) -> datetime | None:
        """When the person chose their password (their client space was activated), if ever.

        Keycloak's user representation says nothing about passwords (`requiredActions` without
        UPDATE_PASSWORD proves nothing), so this reads the person's credentials: one call."""
        with _keycloak_errors():
            credentials = self._admin.get_credentials(person_id)
        password = next((c for c in credentials if c.get("type") == "password"), None)
        return _from_millis(password["createdDate"]) if password else None

    def last_login(self, person_id: str) -> datetime | None:
        """The person's latest successful sign-in, from the recorded LOGIN events (one call:
        Keycloak 26 keeps no last sign-in on the user)."""
        with _keycloak_errors():
            logins = self._get_json("events", user=person_id, type="LOGIN", first=0, max=1)
        return _from_millis(logins[0]["time"]) if logins else None

    def _paged(self, path: str, page: int = 100, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged Admin API list (`first`/`max`)."""
        items: list[dict[str, Any]] = []
        while True:
            with _keycloak_errors():
                batch = self._get_json(path, **params, first=len(items), max=page)
            items += batch
            if len(batch) < page:
                return items

    def _get_json(self, path: str, **params: Any) -> Any:
        """GET an Admin API path of the realm that python-keycloak has no method for."""
        response = self._admin.connection.raw_get(f"admin/realms/{self._realm}/{path}", **params)
        return raise_error_from_response(response, KeycloakGetError)

    def _name_of(self, person_id: str, known: dict[str, str]) -> str:
        """A user of the realm as the history names them: e-mail, else username (a service
        account), else their id (deleted since)."""
        if person_id not in known:
            user = self._user(person_id) if person_id else None
            known[person_id] = (
                str(user.get("email") or user.get("username") or person_id) if user else person_id
            )
        return known[person_id]

    # --- bulk import (portal.core.services.bulk) --------------------------------------------------

    def import_state(
        self, groupement: str, emails: Collection[str], sirens: Collection[str] = ()
    ) -> Existing:
        """What exists for a file: the groupement's adherents (one listing), the people with
        these e-mails and which of these SIRENs are adherents of another groupement. People are
        found by one exact search per e-mail for a short file. For a long one, brief pages of
        every person of the realm (``IMPORT_PAGE`` per page, e-mails only) first tell who exists,
        then the same rule chooses between searching those and full pages. Measured
        (benchmarks/bulk_import.py): 1,000 searches take 11 s, when one page of 1,000 full users
        costs about as much as ``SEARCHES_PER_PAGE`` searches, and a brief page a tenth of that
        while the users are cold in Keycloak (0.3 s against 3.6 s). Other groupements' SIRENs:
        see :meth:`_elsewhere`."""
        adherents = self._adherents_of(groupement, self._group_id(groupement))
        wanted = {email.casefold() for email in emails}
        people: dict[str, Person] = {}
        with _keycloak_errors():
            count = int(self._get_json("users/count"))
        pages = count // IMPORT_PAGE + 1
        if len(wanted) > SEARCHES_PER_PAGE * pages:
            # Brief pages first (e-mails only): ten times cheaper than full ones while the
            # users are cold in Keycloak's cache; a first import finds nobody and stops there.
            with _keycloak_errors():
                wanted &= {
                    str(user.get("email") or "").casefold()
                    for user in self._import_pages("users", briefRepresentation="true")
                }
        if len(wanted) <= SEARCHES_PER_PAGE * pages:
            for email in wanted:
                person = self.find_person_by_email(email)
                if person is not None:
                    people[email] = person
        else:
            with _keycloak_errors():
                for user in self._import_pages("users", briefRepresentation="false"):
                    email = str(user.get("email") or "").casefold()
                    if email in wanted:
                        people[email] = Person.from_representation(user)
        elsewhere = self._elsewhere(groupement, set(sirens) - adherents.keys())
        return Existing(
            groupement, adherents, people, elsewhere, self._members_of(adherents, sirens, people)
        )

    def _members_of(
        self,
        adherents: Mapping[str, Adherent],
        sirens: Collection[str],
        people: Mapping[str, Person],
    ) -> dict[str, frozenset[str]]:
        """SIREN → ids of the members of its adherent group, for the adherents of the file or of
        the people found (the authority rule needs membership, portal.core.authority): one brief
        listing per adherent, none when the file names nobody known."""
        if not people:
            return {}
        named = set(sirens) | {siren for p in people.values() for siren in p.all_sirens}
        members: dict[str, frozenset[str]] = {}
        with _keycloak_errors():
            for siren in sorted(named & adherents.keys()):
                path = f"groups/{adherents[siren].group_id}/members"
                pages = self._import_pages(path, briefRepresentation="true")
                members[siren] = frozenset(str(user["id"]) for user in pages)
        return members

    def _adherents_of(self, groupement: str, group_id: str) -> dict[str, Adherent]:
        """SIREN → adherent, for every adherent group of the groupement (one listing)."""
        adherents: dict[str, Adherent] = {}
        named = {"name": groupement}
        with _keycloak_errors():
            for child in self._import_pages(
                f"groups/{group_id}/children", briefRepresentation="false"
            ):
                adherent = _adherent(named, child)
                adherents[adherent.siren] = adherent
        return adherents

    def _elsewhere(self, groupement: str, sirens: set[str]) -> dict[str, str]:
        """SIREN → code of the other groupement holding it, for those of ``sirens`` that are an
        adherent elsewhere (one adherent group per SIREN in the realm: :meth:`adherent`). Same
        trade-off as for people: one exact group search per SIREN when they are few, otherwise
        one listing of the groupements (with their number of adherents) and their adherents
        page by page."""
        if not sirens:
            return {}
        with _keycloak_errors():
            others = [
                group
                for group in self._import_pages("groups", briefRepresentation="true")
                if group.get("name") not in (groupement, COORDINATORS_GROUP)
            ]
        # Keycloak 23+ counts each group's children; without the count, assume one page.
        pages = sum(int(group.get("subGroupCount") or 0) // IMPORT_PAGE + 1 for group in others)
        found: dict[str, str] = {}
        if len(sirens) <= SEARCHES_PER_PAGE * pages:
            for siren in sirens:
                adherent = self.adherent(siren)
                if adherent is not None and adherent.groupement != groupement:
                    found[siren] = adherent.groupement
            return found
        with _keycloak_errors():
            for group in others:
                if group.get("subGroupCount") == 0:
                    continue
                children = f"groups/{group['id']}/children"
                for child in self._import_pages(children, briefRepresentation="true"):
                    if child.get("name") in sirens:
                        found[str(child["name"])] = str(group["name"])
        return found

    def apply_import(
        self,
        plan: Plan,
        redirect_uri: str,
        change: Change,
        *,
        invite: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> Outcome:
        """Write a plan (:func:`portal.core.services.bulk.plan`): adherent groups, then new people
        through
        Keycloak's partial import (``IMPORT_CHUNK`` people per call, existing ones skipped),
        then new functions of existing people (one PUT each), principals (one write per
        adherent, only where none is set), then invitations (one per person). A failure on one
        person is reported on its lines and the run goes on. ``progress`` is called with the
        number of steps done (see :func:`import_steps`)."""
        tick = progress or (lambda done: None)
        outcome = Outcome(unchanged=plan.unchanged)
        groupement = self._group_id(plan.groupement)
        with _keycloak_errors():
            for new in plan.adherents:
                response = self._admin.connection.raw_post(
                    f"admin/realms/{self._realm}/groups/{groupement}/children",
                    data=json.dumps(
                        {
                            "name": new.siren,
                            "attributes": {"raisonSociale": [new.name], "lots": list(new.lots)},
                        }
                    ),
                )
                raise_error_from_response(response, KeycloakPostError, expected_codes=[201])
                outcome.adherents_created += 1
                tick(1)
        adherents = self._adherents_of(plan.groupement, groupement)
        for siren, lots in plan.lots.items():
            self._write_group(adherents[siren].group_id, _lots_edit(lots))
        ids = dict(plan.ids)
        actions = self._default_required_actions() if plan.people else []
        for start in range(0, len(plan.people), IMPORT_CHUNK):
            chunk = plan.people[start : start + IMPORT_CHUNK]
            users = [
                {
                    "username": person.email,
                    "email": person.email,
                    "firstName": person.first_name,
                    "lastName": person.last_name,
                    "enabled": True,
                    "requiredActions": actions,
                    "attributes": {
                        **person.attributes(),
                        "derniereModification": [change.to_json()],
                    },
                    "groups": [f"/{plan.groupement}/{siren}" for siren in person.sirens],
                }
                for person in chunk
            ]
            added = self._import_users(users)
            for person in chunk:
                if person.email in added:
                    ids[person.email] = added[person.email]
                    outcome.created += 1
                else:
                    outcome.failures.append(
                        ReportLine(
                            person.lines[0],
                            Kind.ERROR,
                            f"{person.email} n’a pas été créé (une personne a cette adresse, "
                            "créée entre-temps) : relancez l’import.",
                        )
                    )
            tick(len(chunk))
        for update in plan.updates:
            try:
                self._apply_update(update, adherents, change)
                outcome.updated += 1
            except ConcurrentChange:
                outcome.failures.append(
                    ReportLine(
                        update.lines[0],
                        Kind.ERROR,
                        f"{update.email} non modifié : sa fiche changeait au même moment, "
                        "relancez l’import.",
                    )
                )
            except KeycloakError as error:
                if isinstance(error, KeycloakConnectionError):
                    raise KeycloakUnavailable("Keycloak is unreachable") from error
                outcome.failures.append(
                    ReportLine(update.lines[0], Kind.ERROR, f"{update.email} non modifié : {error}")
                )
            tick(1)
        by_siren: dict[str, dict[str, str]] = {}
        for scope, email in plan.principals.items():
            if email in ids:
                by_siren.setdefault(scope.siren, {})[scope.lot] = ids[email]
        for siren, principals in by_siren.items():
            outcome.principals += self._set_principals(adherents[siren].group_id, principals)
        if invite:
            self._invite_all(plan, ids, redirect_uri, change, outcome, tick)
        return outcome

    def _invite_all(
        self,
        plan: Plan,
        ids: Mapping[str, str],
        redirect_uri: str,
        change: Change,
        outcome: Outcome,
        tick: Callable[[int], None],
    ) -> None:
        """One invitation per person (Keycloak has no bulk send), ``INVITATION_WORKERS`` at a
        time: each waits mostly on Keycloak rendering and handing the e-mail to SMTP (measured in
        benchmarks/bulk_import.py). Results are gathered here, in this thread."""
        wanted = [(email, line) for email, line in plan.invitations.items() if email in ids]
        if not wanted:
            return
        lifespan = self.invitation_lifespan()
        with ThreadPoolExecutor(INVITATION_WORKERS, thread_name_prefix="invitation") as pool:
            sending = {
                pool.submit(self.invite, ids[email], redirect_uri, change, lifespan): (email, line)
                for email, line in wanted
            }
            for done in as_completed(sending):
                email, line = sending[done]
                try:
                    done.result()
                    outcome.invitations_sent += 1
                except (InvitationNotSent, KeycloakError) as error:
                    outcome.failures.append(
                        ReportLine(
                            line,
                            Kind.ERROR,
                            f"Invitation de {email} non envoyée ({error}) : elle le sera au "
                            "prochain import, ou depuis le diagnostic du support.",
                        )
                    )
                tick(1)
        outcome.failures.sort(key=lambda failure: failure.line)

    def _import_users(self, users: list[dict[str, Any]]) -> dict[str, str]:
        """Create these people; returns e-mail → id of those created (existing ones are left
        alone). Partial import when this account may use it (it needs more than `manage-users`:
        the bootstrap client of the command line has it, the portal's account does not and
        should not), otherwise one creation per person."""
        if self._partial_import is not False:
            with _keycloak_errors():
                response = self._admin.connection.raw_post(
                    f"admin/realms/{self._realm}/partialImport",
                    data=json.dumps({"ifResourceExists": "SKIP", "users": users}),
                )
            if response.status_code != 403:
                self._partial_import = True
                with _keycloak_errors():
                    results = cast(
                        dict[str, Any], raise_error_from_response(response, KeycloakPostError)
                    )
                return {
                    str(r["resourceName"]).casefold(): str(r["id"])
                    for r in results.get("results", [])
                    if r.get("resourceType") == "USER" and r.get("action") == "ADDED"
                }
            self._partial_import = False
        created: dict[str, str] = {}
        for user in users:
            try:
                with _keycloak_errors():
                    created[user["email"]] = str(self._admin.create_user(user))
            except KeycloakError as error:
                if error.response_code != 409:  # someone has this e-mail: reported by the caller
                    raise
        return created

    def groupement_exists(self, code: str) -> bool:
        try:
            self._group_id(code)
        except UnknownGroupement:
            return False
        return True

    def _apply_update(
        self, update: PersonUpdate, adherents: Mapping[str, Adherent], change: Change
    ) -> None:
        def edit(representation: dict[str, Any]) -> None:
            attributes = representation.setdefault("attributes", {})
            for function, scopes in update.functions.items():
                for scope in scopes:
                    _add_value(attributes, function.value, scope)

        self._update_user(update.person_id, edit, change)
        with _keycloak_errors():
            for siren in update.sirens:
                self._admin.group_user_add(update.person_id, adherents[siren].group_id)

    def _set_principals(self, group_id: str, principals: Mapping[str, str]) -> int:
        """``principal.<lot>`` for each lot that has none yet; returns how many were set."""
        missing: dict[str, str] = {}

        def set_missing(attributes: dict[str, list[str]]) -> bool:
            missing.clear()  # the edit is redone after a concurrent change
            for lot, person_id in principals.items():
                if not attributes.get(f"principal.{lot}"):
                    missing[lot] = person_id
                    attributes[f"principal.{lot}"] = [person_id]
            return bool(missing)

        return len(missing) if self._write_group(group_id, set_missing) else 0

    def _default_required_actions(self) -> list[str]:
        """What Keycloak asks of any new person (TERMS_AND_CONDITIONS here): the partial import,
        like any import, does not apply the realm's default actions by itself."""
        with _keycloak_errors():
            actions = self._get_json("authentication/required-actions")
        return [str(a["alias"]) for a in actions if a.get("enabled") and a.get("defaultAction")]

    def _group_id(self, code: str) -> str:
        """Id of the top-level group `/<code>`."""
        try:
            with _keycloak_errors():
                return str(self._get_json(f"group-by-path/{quote(code, safe='')}")["id"])
        except KeycloakError as error:
            if error.response_code == 404:
                raise UnknownGroupement(code) from error
            raise

    def _import_pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        first = 0
        while True:
            page = self._get_json(path, first=first, max=IMPORT_PAGE, **params)
            yield from page
            if len(page) < IMPORT_PAGE:
                return
            first += IMPORT_PAGE

    # --- internals ---------------------------------------------------------------------

    def _user(self, person_id: str) -> dict[str, Any] | None:
        try:
            with _keycloak_errors():
                return dict(self._admin.get_user(person_id))
        except KeycloakError as error:
            if error.response_code == 404:
                return None
            raise

    def _require_adherent(self, siren: str) -> Adherent:
        adherent = self.adherent(siren)
        if adherent is None:
            raise UnknownAdherent(siren)
        return adherent

    def _create_person(
        self,
        details: ContactDetails,
        adherent: Adherent,
        attributes: dict[str, list[str]],
        change: Change,
    ) -> Person:
        _set_optional(attributes, "telephoneFixe", details.phone_fixe)
        _set_optional(attributes, "telephoneMobile", details.phone_mobile)
        attributes["derniereModification"] = [change.to_json()]
        with _keycloak_errors():
            # One call creates the person, their attributes and their group membership:
            # nothing half-made is left if it fails.
            person_id = self._admin.create_user(
                {
                    "email": details.email,
                    "firstName": details.first_name,
                    "lastName": details.last_name,
                    "enabled": True,
                    "attributes": attributes,
                    "groups": [f"/{adherent.groupement}/{adherent.siren}"],
                }
            )
        person = self.person(str(person_id))
        if person is None:
            raise UnknownPerson(str(person_id))
        return person

    def _extend_person(
        self,
        person_id: str,
        adherent: Adherent,
        edit_attributes: Callable[[dict[str, list[str]]], None],
        change: Change,
    ) -> Person:
        """Update the person's attributes, then join the adherent's group if not yet a member;
        if joining fails, the attribute update is undone."""
        base, written = self._write_user(
            person_id, lambda rep: edit_attributes(rep.setdefault("attributes", {})), change
        )
        try:
            with _keycloak_errors():
                self._admin.group_user_add(person_id, adherent.group_id)
        except Exception:
            self._undo_user(person_id, base, written)
            raise
        return Person.from_representation({**written, "id": person_id})

    def _update_user(
        self,
        person_id: str,
        edit: Callable[[dict[str, Any]], None],
        change: Change,
        current: dict[str, Any] | None = None,
    ) -> Person:
        _, written = self._write_user(person_id, edit, change, current)
        return Person.from_representation({**written, "id": person_id})

    def _write_user(
        self,
        person_id: str,
        edit: Callable[[dict[str, Any]], None],
        change: Change | None,
        current: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Apply `edit` to the person as read (`current` if the caller just read it) and write
        it back with the revision read (:mod:`portal.core.keycloak.revisions`); if someone changed
        the person
        meanwhile, read again and redo: `edit` may run more than once. Returns the
        representation the write was based on and the one written. ``change``: the audit line
        (None: `edit` sets it, as :meth:`_undo_user` does)."""
        for attempt in range(revisions.WRITE_ATTEMPTS):
            revisions.back_off(attempt)
            representation = current if current is not None else self._user(person_id)
            current = None
            if representation is None:
                raise UnknownPerson(person_id)
            base = _writable(copy.deepcopy(representation))
            updated = copy.deepcopy(base)
            edit(updated)
            if change is not None:
                updated.setdefault("attributes", {})["derniereModification"] = [change.to_json()]
            try:
                with _keycloak_errors():
                    self._admin.update_user(person_id, updated)
            except KeycloakError as error:
                if revisions.stale_user_write(error):
                    continue
                raise
            return base, updated
        raise ConcurrentChange(person_id)

    def _undo_user(self, person_id: str, before: dict[str, Any], written: dict[str, Any]) -> None:
        """Put back what a write (`before` → `written`) changed, where nobody changed it since."""
        self._write_user(person_id, lambda now: revisions.undo(now, before, written), None)


def _contact_edit(
    scope: Scope, functions: Mapping[Function, bool], details: ContactDetails | None
) -> Callable[[dict[str, Any]], None]:
    def edit(representation: dict[str, Any]) -> None:
        attributes = representation.setdefault("attributes", {})
        for function, keep in functions.items():
            if keep:
                _add_value(attributes, function.value, scope)
            else:
                _remove_value(attributes, function.value, scope)
        if details is not None:
            representation["firstName"] = details.first_name
            representation["lastName"] = details.last_name
            _set_optional(attributes, "telephoneFixe", details.phone_fixe)
            _set_optional(attributes, "telephoneMobile", details.phone_mobile)

    return edit


def _decision_edit(
    request_id: str, accept: bool, reason: str, change: Change
) -> tuple[Callable[[dict[str, Any]], None], list[CollectionRequest]]:
    """The edit deciding a pending request, and the list where it leaves the decided request."""
    decided: list[CollectionRequest] = []

    def edit(representation: dict[str, Any]) -> None:
        decided.clear()  # the edit is redone after a concurrent change
        attributes = representation.setdefault("attributes", {})
        requests = []
        for request in _requests(attributes):
            if request.id == request_id and request.status is RequestStatus.PENDING:
                status = RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED
                request = request.decided(status, change.by, reason)
                decided.append(request)
                if accept:
                    _add_value(attributes, Function.COLLECTE.value, request.scope)
            requests.append(request)
        if not decided:
            raise UnknownRequest(request_id)
        _store_requests(attributes, requests)

    return edit, decided


def _lots_edit(lots: Iterable[str]) -> Callable[[dict[str, list[str]]], bool]:
    def add(attributes: dict[str, list[str]]) -> bool:
        missing = [lot for lot in lots if lot not in attributes.get("lots", [])]
        attributes["lots"] = [*attributes.get("lots", []), *missing]
        return bool(missing)

    return add


# Read-only parts of a user representation that an update must not send back.
_READ_ONLY_KEYS = ("access", "createdTimestamp", "disableableCredentialTypes", "totp", "notBefore")
# Attributes Keycloak itself writes (CGU acceptance date and version): the admin API may not
# edit them, and an update that leaves them out keeps them.
_KEYCLOAK_ATTRIBUTES = ("terms_and_conditions", TERMS_VERSION)


def _writable(representation: dict[str, Any]) -> dict[str, Any]:
    writable = {k: v for k, v in representation.items() if k not in _READ_ONLY_KEYS}
    attributes = dict(writable.get("attributes") or {})
    for name in _KEYCLOAK_ATTRIBUTES:
        attributes.pop(name, None)
    writable["attributes"] = attributes
    return writable


def _from_millis(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def _requests(attributes: Mapping[str, list[str]]) -> list[CollectionRequest]:
    return [
        request
        for value in attributes.get("demandesCollecte", [])
        if (request := CollectionRequest.from_json(value))
    ]


def _store_requests(attributes: dict[str, list[str]], requests: list[CollectionRequest]) -> None:
    """Write the records and what is derived from them: the SIREN/lot index searched by the
    member space, and the marker searched by support's queue."""
    attributes["demandesCollecte"] = [request.to_json() for request in requests]
    attributes["demandeCollecteSur"] = sorted({str(request.scope) for request in requests})
    pending = any(request.status is RequestStatus.PENDING for request in requests)
    attributes[PENDING_MARKER] = ["oui"] if pending else []


def _add_value(attributes: dict[str, list[str]], name: str, scope: Scope) -> None:
    values = attributes.setdefault(name, [])
    if str(scope) not in values:
        values.append(str(scope))


def _remove_value(attributes: dict[str, list[str]], name: str, scope: Scope) -> None:
    attributes[name] = [value for value in attributes.get(name, []) if value != str(scope)]


def _set_optional(attributes: dict[str, list[str]], name: str, value: str | None) -> None:
    attributes[name] = [value] if value else []


def _adherent(groupement: dict[str, Any], group: dict[str, Any]) -> Adherent:
    attributes: dict[str, list[str]] = group.get("attributes") or {}
    principals = {
        name.removeprefix("principal."): values[0]
        for name, values in attributes.items()
        if name.startswith("principal.") and values
    }
    return Adherent(
        group_id=str(group["id"]),
        siren=str(group["name"]),
        name=(attributes.get("raisonSociale") or [""])[0],
        groupement=str(groupement["name"]),
        lots=tuple(attributes.get("lots") or ()),
        principals=principals,
    )


def adherent_groups(groups: Iterable[Mapping[str, Any]]) -> dict[str, Adherent]:
    """SIREN → adherent, among groups read with their path and attributes: only the adherent
    groups `/<groupement>/<SIREN>` (not the coordinators' markers `/coordonnateurs/<code>`)."""
    found: dict[str, Adherent] = {}
    for group in groups:
        parts = str(group.get("path") or "").split("/")
        if len(parts) == 3 and parts[1] != COORDINATORS_GROUP and SIREN_PATTERN.fullmatch(parts[2]):
            found[parts[2]] = _adherent({"name": parts[1]}, dict(group))
    return found
