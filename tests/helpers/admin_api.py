"""The Admin API as Keycloak answers it, registered on the ``responses`` mock of a unit test."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import responses
from requests import PreparedRequest
from responses import matchers

from tests.helpers.admin_api_accounts import AccountCalls
from tests.helpers.admin_api_json import GROUPEMENT, group_json
from tests.helpers.keycloak_users import Users
from tests.helpers.settings import (
    ADMIN_GROUPS_URL,
    ADMIN_REALM_URL,
    ADMIN_USERS_URL,
    GROUP_WRITES_URL,
    TOKEN_ENDPOINT,
)

#: The extension's read of the people who have given addresses (PageReadResource).
BY_EMAIL_URL = f"{ADMIN_REALM_URL}/collecte-pages/people/by-email"
#: And of the groupements holding given SIRENs.
BY_SIREN_URL = f"{ADMIN_REALM_URL}/collecte-pages/adherents/by-siren"


class AdminApi(AccountCalls):
    """Registers on the ``kc`` mock the Admin API calls a test expects, one helper per call.

    People live in ``people``: GET /users/<id> answers their current state and the PUT or POST
    a test accepts changes it, as Keycloak would.
    """

    def __init__(self, kc: responses.RequestsMock) -> None:
        self.kc = kc
        self.users = Users()
        self.people: dict[str, dict[str, Any]] = self.users.people
        self.groups: dict[str, dict[str, Any]] = {}
        self.group_members: dict[str, list[dict[str, Any]]] = {}  # SIREN → members listed
        # person id → SIRENs of the adherent groups they are a member of (portal.core.authority)
        self.memberships: dict[str, set[str]] = {}
        self.role_names: dict[str, tuple[str, ...]] = {}  # person id → realm roles (optional)
        self._optional: list[responses.BaseResponse] = []
        self._optional_roles: dict[str, responses.BaseResponse] = {}  # person id → roles read
        self.without_activations_read()
        self._by_email = self.kc.post(BY_EMAIL_URL, status=404, json={"error": "Not Found"})
        self._optional.append(self._by_email)
        self._by_siren = self.kc.post(BY_SIREN_URL, status=404, json={"error": "Not Found"})
        self._optional.append(self._by_siren)

    def without_activations_read(self) -> None:
        """A Keycloak without the `collecte-activations` read (404): the follow-up reads person
        by person, which these tests mock call by call."""
        url = re.compile(rf"{re.escape(ADMIN_REALM_URL)}/collecte-activations/groups/.*")
        self._optional.append(self.kc.get(url, status=404, json={"error": "Not Found"}))

    def by_email_read(self) -> None:
        """A Keycloak with the extension's ``people/by-email`` read (PageReadResource): it
        answers the people of ``people`` whose address was asked, in full."""

        def answer(request: Any) -> tuple[int, dict[str, str], str]:
            asked = set(json.loads(request.body))
            found = [p for p in self.people.values() if p.get("email", "").lower() in asked]
            return 200, {}, json.dumps(found)

        self.kc.remove(self._by_email)
        self._optional.remove(self._by_email)
        self.kc.add_callback(responses.POST, BY_EMAIL_URL, callback=answer)

    def by_siren_read(self, holders: Mapping[str, str]) -> None:
        """A Keycloak with the extension's ``adherents/by-siren`` read: it answers the
        groupement of each SIREN asked that ``holders`` (SIREN → groupement) has."""

        def answer(request: Any) -> tuple[int, dict[str, str], str]:
            asked = json.loads(request.body)
            return 200, {}, json.dumps({s: holders[s] for s in asked if s in holders})

        self.kc.remove(self._by_siren)
        self._optional.remove(self._by_siren)
        self.kc.add_callback(responses.POST, BY_SIREN_URL, callback=answer)

    def token(self) -> None:
        self.kc.post(TOKEN_ENDPOINT, json={"access_token": "jeton", "expires_in": 300})

    def person(self, representation: dict[str, Any]) -> None:
        self.people[representation["id"]] = representation
        # Optional: the member space reads a person with their page (collecte-pages).
        self._optional.append(self._serve(representation["id"]))
        self._serve_groups(representation["id"])

    # --- authority (portal.core.authority): memberships and group members, as Keycloak 26 answers
    # them. A person registered with `person()` is by default a member of the groups of the
    # SIRENs their attributes name; `memberships` changes that. Reading a person's groups is
    # optional for a test (see `forget_unused`).

    def _serve_groups(self, person_id: str) -> None:
        """GET users/<id>/groups?briefRepresentation=false (paged by the gateway): the person's
        groups with their path and attributes."""
        self.memberships.setdefault(person_id, _sirens_of(self.people.get(person_id, {})))
        query = {"briefRepresentation": "false", "first": "0", "max": "100"}
        roles_url = f"{ADMIN_USERS_URL}/{person_id}/role-mappings/realm/composite"
        self._optional_roles[person_id] = self.kc.add_callback(
            responses.GET,
            roles_url,
            callback=lambda request: (200, {}, json.dumps(self._roles(person_id))),
        )
        self._optional.append(self._optional_roles[person_id])

        def groups(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
            found = [
                self.groups.get(f"g-{siren}") or group_json(siren)
                for siren in sorted(self.memberships.get(person_id, ()))
            ]
            return 200, {}, json.dumps(found)

        self._optional.append(
            self.kc.add_callback(
                responses.GET,
                f"{ADMIN_USERS_URL}/{person_id}/groups",
                callback=groups,
                match=[matchers.query_param_matcher(query)],
            )
        )
        self._optional.append(
            self.kc.add_callback(
                responses.GET,
                f"{ADMIN_REALM_URL}/collecte-pages/people/{person_id}",
                callback=lambda request: self._page(person_id, request),
            )
        )

    def _page(self, person_id: str, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        """GET collecte-pages/people/<id>[?siren=] (PageReadResource): the person, their groups,
        their realm roles and, when a member of that adherent, its members."""
        if person_id not in self.people:
            return 404, {}, json.dumps({"error": "Could not find user"})
        sirens = sorted(self.memberships.get(person_id, ()))
        page: dict[str, Any] = {
            "user": self.people[person_id],
            "groups": [self.groups.get(f"g-{siren}") or group_json(siren) for siren in sirens],
            "realmRoles": [role["name"] for role in self._roles(person_id)],
        }
        siren = dict(parse_qsl(urlsplit(str(request.url)).query)).get("siren")
        if siren in sirens and siren in self.group_members:
            page["members"] = self.group_members[siren]
        return 200, {}, json.dumps(page)

    def groups_of(self, person: dict[str, Any], *sirens: str) -> None:
        """The person's groups (by default those of the SIRENs their attributes name), for a
        person not registered with `person()` (found by e-mail)."""
        self.memberships[person["id"]] = set(sirens) if sirens else _sirens_of(person)
        self._serve_groups(person["id"])

    def _roles(self, person_id: str) -> list[dict[str, str]]:
        names = ("default-roles-collecte", *self.role_names.get(person_id, ()))
        return [{"id": f"r-{name}", "name": name} for name in names]

    def scope_searches(self, scope: str, **people: list[dict[str, Any]]) -> None:
        """The four attribute searches of a SIREN/lot (gateway.people_with: the history of a
        SIREN); ``people``: collecte=, technique=, ..."""
        for attribute in ("collecte", "technique", "facturation", "demandeCollecteSur"):
            self.search(attribute, scope, people.get(attribute, []))

    def members(self, siren: str, people: list[dict[str, Any]]) -> None:
        """GET groups/g-<SIREN>/members?briefRepresentation=false: the adherent's members with
        their attributes, in one page."""
        query = {"briefRepresentation": "false", "first": "0", "max": "100"}
        unique = list({person["id"]: person for person in people}.values())
        self.group_members[siren] = unique  # a member's page (collecte-pages) gives them too
        self._optional.append(
            self.kc.get(
                f"{ADMIN_GROUPS_URL}/g-{siren}/members",
                json=unique,
                match=[matchers.query_param_matcher(query)],
            )
        )

    def accept_leave(self, person_id: str, siren: str) -> None:
        """DELETE users/<id>/groups/g-<SIREN>: the person leaves the adherent's group."""

        def leave(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
            self.memberships.get(person_id, set()).discard(siren)
            return 204, {}, ""

        self.kc.add_callback(
            responses.DELETE, f"{ADMIN_USERS_URL}/{person_id}/groups/g-{siren}", callback=leave
        )

    def forget_unused(self) -> None:
        """Optional calls a test did not make are not failures."""
        for response in self._optional:
            if response.call_count == 0:
                self.kc.remove(response)

    def _serve(self, person_id: str) -> responses.BaseResponse:
        """GET /users/<id> answers the person as they are at that moment."""
        return self.kc.add_callback(
            responses.GET,
            f"{ADMIN_USERS_URL}/{person_id}",
            callback=lambda request: (200, {}, json.dumps(self.people[person_id])),
        )

    def unknown_person(self, person_id: str) -> None:
        """Keycloak knows no such person, by either read (one of them is optional)."""
        for url in (
            f"{ADMIN_USERS_URL}/{person_id}",
            f"{ADMIN_REALM_URL}/collecte-pages/people/{person_id}",
        ):
            missing = self.kc.get(url, status=404, json={"error": "User not found"})
            self._optional.append(missing)

    def search(self, attribute: str, scope: str, people: list[dict[str, Any]]) -> None:
        """GET /users?q=<attribute>:<SIREN/lot> (MemberSpace.contacts)."""
        query = {"q": f"{attribute}:{scope}", "first": "0", "max": "500"}
        self.kc.get(ADMIN_USERS_URL, json=people, match=[matchers.query_param_matcher(query)])

    def scope_contacts(self, scope: str, **people: list[dict[str, Any]]) -> None:
        """What a SIREN/lot page reads of its people: the adherent group's members (one call);
        ``people``: collecte=, technique=, facturation=, demandeCollecteSur= (all members)."""
        self.members(scope.split("/")[0], [p for group in people.values() for p in group])

    def email_search(self, email: str, people: list[dict[str, Any]]) -> None:
        query = {"email": email, "exact": "true", "first": "0", "max": "2"}
        self.kc.get(ADMIN_USERS_URL, json=people, match=[matchers.query_param_matcher(query)])

    def adherent(self, siren: str, group: dict[str, Any] | None = None) -> None:
        """GET /groups?search=<SIREN>: Keycloak answers the top-level groupement holding the
        matching child, with the number of all its children; python-keycloak then reads
        that groupement's children with the same search."""
        found = group or group_json(siren)
        self.groups[str(found["id"])] = found  # its members read the same group among theirs
        groupement = {"id": "g-groupement", "name": GROUPEMENT, "path": f"/{GROUPEMENT}"}
        self._group_search(siren, [{**groupement, "subGroupCount": 2, "subGroups": [found]}])
        self._group_search(siren, [found], f"{ADMIN_GROUPS_URL}/g-groupement/children")

    def no_adherent(self, siren: str) -> None:
        self._group_search(siren, [])

    def _group_search(self, siren: str, answer: list[Any], url: str = ADMIN_GROUPS_URL) -> None:
        query = {"search": siren, "exact": "true", "briefRepresentation": "false"}
        query.update(first="0", max="100")
        # Optional: the member space takes an adherent from the person's own groups.
        self._optional.append(
            self.kc.get(url, json=answer, match=[matchers.query_param_matcher(query)])
        )

    def accept_update(self, person_id: str) -> None:
        """PUT /users/<id> answered as Keycloak does (tests/helpers/keycloak_users.py): 400 for
        a profile error, 409 for another person's e-mail, else 204 and the person stored as
        Keycloak stores them (read-only attributes kept, a new revision)."""
        self.kc.add_callback(
            responses.PUT,
            f"{ADMIN_USERS_URL}/{person_id}",
            callback=lambda request: self.users.update(
                person_id, json.loads(str(request.body))
            ).callback(),
        )

    def accept_create(self, person_id: str) -> None:
        """POST /users answered as Keycloak does: 409 when a person known to the fake has the
        e-mail, 400 for a profile error, else 201 with the new user's URL; the new user (with
        the realm's default required actions) can then be read."""
        location = f"{ADMIN_USERS_URL}/{person_id}"
        self.kc.add_callback(
            responses.POST,
            ADMIN_USERS_URL,
            callback=lambda request: self.users.create(
                json.loads(str(request.body)), person_id, location
            ).callback(),
        )
        # a refused creation is never read
        self._optional.append(self._serve(person_id))

    def someone_has(self, representation: dict[str, Any]) -> None:
        """A person exists in Keycloak without the test reading them (e.g. created meanwhile)."""
        self.people[representation["id"]] = representation

    def accept_join(self, person_id: str, siren: str) -> None:
        def join(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
            self.memberships.setdefault(person_id, set()).add(siren)
            return 204, {}, ""

        self.kc.add_callback(
            responses.PUT, f"{ADMIN_USERS_URL}/{person_id}/groups/g-{siren}", callback=join
        )

    # --- support: what python-keycloak 7.1.1 requests for the support desk ------------------

    def roles(self, person_id: str, *names: str) -> None:
        """GET users/<id>/role-mappings/realm/composite: the person's effective realm roles
        (asked once at least; later reads of a person registered with `person()` answer the
        same)."""
        self.role_names[person_id] = names
        optional = self._optional_roles.pop(person_id, None)
        if optional is not None:
            # Already served for a person registered with `person()`: now it must be asked.
            self._optional.remove(optional)
            return
        self.kc.get(
            f"{ADMIN_USERS_URL}/{person_id}/role-mappings/realm/composite",
            json=self._roles(person_id),
        )

    def accept_delete(self, person_id: str) -> None:
        def delete(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
            self.people.pop(person_id)
            return 204, {}, ""

        self.kc.add_callback(responses.DELETE, f"{ADMIN_USERS_URL}/{person_id}", callback=delete)

    def group(self, group: dict[str, Any], read: bool = True) -> None:
        """GET groups/<id> answers the group as it is (unless ``read`` is False: the code
        under test writes from a listing); a conditional PUT changes it."""
        self.groups[group["id"]] = group
        url = f"{ADMIN_GROUPS_URL}/{group['id']}"
        write_url = f"{GROUP_WRITES_URL}/{group['id']}"

        def update(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
            self.groups[group["id"]] = json.loads(str(request.body))
            return 204, {}, ""

        if read:
            self.kc.add_callback(
                responses.GET,
                url,
                callback=lambda r: (200, {}, json.dumps(self.groups[group["id"]])),
            )
        self.kc.add_callback(responses.PUT, write_url, callback=update)

    def sent(self, method: str, url: str = ADMIN_USERS_URL) -> list[dict[str, Any]]:
        """JSON bodies sent with ``method`` to ``url`` (a user's URL or the users' URL)."""
        return [
            json.loads(str(call.request.body))
            for call in self.kc.calls
            if call.request.method == method and call.request.url == url
        ]

    def writes(self) -> list[str]:
        """Every call that could change Keycloak (the token request and the by-email and
        by-siren reads, POSTs that write nothing, aside)."""
        return [
            f"{call.request.method} {call.request.url}"
            for call in self.kc.calls
            if call.request.method != "GET"
            and call.request.url not in (TOKEN_ENDPOINT, BY_EMAIL_URL, BY_SIREN_URL)
        ]


def without_revision(representation: Mapping[str, Any]) -> dict[str, Any]:
    """A person's attributes but the revision, which Keycloak changes at each write: a write
    undone leaves the person as they were, with another revision."""
    attributes = dict(representation.get("attributes") or {})
    attributes.pop("revision", None)
    return attributes


def _sirens_of(representation: Mapping[str, Any]) -> set[str]:
    """SIRENs named by a user's function values and requests."""
    attributes = representation.get("attributes") or {}
    values = [
        *(v for name in ("collecte", "technique", "facturation") for v in attributes.get(name, [])),
        *attributes.get("demandeCollecteSur", []),
    ]
    return {value.split("/")[0] for value in values}
