"""Shared fixtures for the portal's unit tests.

Every test runs inside a ``responses`` mock (``kc``): no request leaves the
process, and every mocked Keycloak call must actually happen.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from requests import PreparedRequest
from responses import matchers
from werkzeug.test import TestResponse

from portal.core.domain import CollectionRequest, Scope
from portal.web.app import create_app
from portal.web.auth import USER_KEY, SessionUser
from tests.keycloak_users import Users

KEYCLOAK_URL = "http://keycloak.test"
ISSUER = f"{KEYCLOAK_URL}/realms/collecte"
DISCOVERY_URL = f"{ISSUER}/.well-known/openid-configuration"
OIDC_BASE = f"{ISSUER}/protocol/openid-connect"
AUTHORIZATION_ENDPOINT = f"{OIDC_BASE}/auth"
TOKEN_ENDPOINT = f"{OIDC_BASE}/token"
JWKS_URI = f"{OIDC_BASE}/certs"
END_SESSION_ENDPOINT = f"{OIDC_BASE}/logout"
ADMIN_REALM_URL = f"{KEYCLOAK_URL}/admin/realms/collecte"
ADMIN_USERS_URL = f"{ADMIN_REALM_URL}/users"
ADMIN_GROUPS_URL = f"{ADMIN_REALM_URL}/groups"
#: Where the portal writes a group: the conditional update of our Keycloak extension.
GROUP_WRITES_URL = f"{ADMIN_REALM_URL}/collecte-revisions/groups"

DISCOVERY: dict[str, Any] = {
    "issuer": ISSUER,
    "authorization_endpoint": AUTHORIZATION_ENDPOINT,
    "token_endpoint": TOKEN_ENDPOINT,
    "userinfo_endpoint": f"{OIDC_BASE}/userinfo",
    "end_session_endpoint": END_SESSION_ENDPOINT,
    "jwks_uri": JWKS_URI,
    "response_types_supported": ["code"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "code_challenge_methods_supported": ["plain", "S256"],
}

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "OIDC_CLIENT_SECRET": "test-oidc-client-secret",
    "ADMIN_CLIENT_SECRET": "test-admin-client-secret",
    "KEYCLOAK_URL": KEYCLOAK_URL,
    # The test client's own host: every absolute URL is http://localhost/...
    "PORTAL_URL": "http://localhost",
}


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own COLLECTE_* variables must not leak into the tests."""
    import os

    for name in list(os.environ):
        if name.startswith("COLLECTE_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def kc() -> Iterator[responses.RequestsMock]:
    """Mocked HTTP: unregistered requests fail with ConnectionError, all registered must fire."""
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def make_app(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Flask]:
    """Build an app from the test configuration plus overrides (sessions kept in a folder of
    the test's own)."""
    sessions = tmp_path_factory.mktemp("sessions")

    def factory(**overrides: Any) -> Flask:
        return create_app({**TEST_CONFIG, "SESSION_FILE_DIR": str(sessions), **overrides})

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def discovery(kc: responses.RequestsMock) -> dict[str, Any]:
    """Serve Keycloak's discovery document (fetched once per app)."""
    kc.get(DISCOVERY_URL, json=DISCOVERY)
    return DISCOVERY


def session_user(**overrides: Any) -> dict[str, Any]:
    user: dict[str, Any] = {
        "sub": "7f1c2a9e-0000-4000-8000-000000000001",
        "email": "camille.martin@example.fr",
        "given_name": "Camille",
        "family_name": "Martin",
        "expires_at": int(time.time()) + 300,
        "signed_in_at": int(time.time()),
    }
    user.update(overrides)
    return user


@pytest.fixture
def sign_in(client: FlaskClient) -> Callable[..., None]:
    """Put a signed-in user in the client's session, as the OIDC callback would."""

    def do_sign_in(**overrides: Any) -> None:
        with client.session_transaction() as sess:
            sess["user"] = session_user(**overrides)
            sess["id_token"] = "header.payload.signature"

    return do_sign_in


@pytest.fixture
def csrf_token(app: Flask, client: FlaskClient) -> Callable[[], str]:
    """Return a CSRF token valid for the client's session (as a rendered form would)."""

    def get_token() -> str:
        with client.session_transaction() as sess:
            current: Mapping[str, Any] = dict(sess)
        with app.test_request_context():
            session.update(current)
            token = generate_csrf()
            raw = session["csrf_token"]
        with client.session_transaction() as sess:
            sess["csrf_token"] = raw
        return str(token)

    return get_token


# --- Member space: the Admin API as Keycloak answers it, and a signed-in member ---------------

SIREN_A, SIREN_B = "213500010", "253500011"
SCOPE_A, SCOPE_B = f"{SIREN_A}/1", f"{SIREN_B}/1"
GROUPEMENT = "GRP-DEMO"
ADHERENT_NAMES = {SIREN_A: "Commune de Démoville", SIREN_B: "Syndicat des eaux de Démoville"}


def user_json(
    person_id: str, email: str, first_name: str, last_name: str, **attributes: list[str]
) -> dict[str, Any]:
    """A user as GET /users/<id> returns it (read-only keys included)."""
    return {
        "id": person_id,
        "username": email,
        "email": email,
        "firstName": first_name,
        "lastName": last_name,
        "enabled": True,
        "emailVerified": True,
        "createdTimestamp": 1700000000000,
        "access": {"manage": True},
        "totp": False,
        "disableableCredentialTypes": [],
        "requiredActions": [],
        "notBefore": 0,
        "attributes": attributes,
    }


def group_json(siren: str, **principals: str) -> dict[str, Any]:
    """An adherent group `/<groupement>/<SIREN>`; ``principals``: ``lot_1="<person id>"``."""
    attributes = {
        "raisonSociale": [ADHERENT_NAMES.get(siren, f"Adhérent {siren}")],
        "lots": ["1", "2"],
    }
    for lot, person_id in principals.items():
        attributes[f"principal.{lot.removeprefix('lot_')}"] = [person_id]
    return {
        "id": f"g-{siren}",
        "name": siren,
        "path": f"/{GROUPEMENT}/{siren}",
        "parentId": "g-groupement",
        "subGroupCount": 0,
        "attributes": attributes,
    }


def request_json(request_id: str, day: int, scope: str = SCOPE_A, **decision: Any) -> str:
    """A request record (`demandesCollecte`) made by MEMBER on 2026-11-<day> at 09:30 UTC."""
    parsed = Scope.parse(scope)
    assert parsed is not None
    return CollectionRequest(
        id=request_id,
        scope=parsed,
        requested_by="marie.dupont@demoville.fr",
        requested_at=datetime(2026, 11, day, 9, 30, tzinfo=UTC),
        **decision,
    ).to_json()


#: The CGU version in force in the realm, which MEMBER and TECHNICIAN accepted.
CGU_VERSION = "2026-11"
MEMBER = user_json(
    "a0000000-0000-4000-8000-00000000000a",
    "marie.dupont@demoville.fr",
    "Marie",
    "Dupont",
    collecte=[SCOPE_A],
    telephoneFixe=["+33299000000"],
    telephoneMobile=["+262692123456"],
    terms_and_conditions=["1795881002"],
    cguVersionAcceptee=[CGU_VERSION],
)
TECHNICIAN = user_json(
    "t0000000-0000-4000-8000-00000000000t",
    "jean.technicien@demoville.fr",
    "Jean",
    "Technicien",
    technique=[SCOPE_A],
    facturation=[SCOPE_A],
    telephoneFixe=["+33299000001"],
    terms_and_conditions=["1795881002"],
    cguVersionAcceptee=[CGU_VERSION],
)
#: A technical contact of member B's scope only.
OUTSIDER = user_json(
    "o0000000-0000-4000-8000-00000000000o",
    "paul.autre@syndicat-demoville.fr",
    "Paul",
    "Autre",
    technique=[SCOPE_B],
)


#: Ids Keycloak gives the realm `collecte`, the master realm and the portal admin client's
#: service-account user (admin events name callers by these ids).
REALM_ID = "r0000000-0000-4000-8000-00000000c011"
MASTER_REALM_ID = "r0000000-0000-4000-8000-0000000ma571"
PORTAL_ACCOUNT_ID = "p0000000-0000-4000-8000-00000000portal"


class AdminApi:
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
        """PUT /users/<id> answered as Keycloak does (tests/keycloak_users.py): 400 for a profile
        error, 409 for another person's e-mail, else 204 and the person stored as Keycloak
        stores them (read-only attributes kept, a new revision)."""
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

    def pending(self, people: list[dict[str, Any]]) -> None:
        """GET users?q=demandeCollecteEnAttente:oui: support's queue."""
        query = {"q": "demandeCollecteEnAttente:oui", "first": "0", "max": "500"}
        self.kc.get(ADMIN_USERS_URL, json=people, match=[matchers.query_param_matcher(query)])

    def credentials(self, person_id: str, password_created: int | None = None) -> None:
        """GET users/<id>/credentials; ``password_created``: epoch milliseconds, or no password."""
        found = (
            [{"id": "c-1", "type": "password", "createdDate": password_created}]
            if password_created is not None
            else []
        )
        self.kc.get(f"{ADMIN_USERS_URL}/{person_id}/credentials", json=found)

    def lock(self, person_id: str, locked: bool = False) -> None:
        """GET attack-detection/brute-force/users/<id>."""
        status = {"numFailures": 5 if locked else 0, "disabled": locked, "lastFailure": 0}
        self.kc.get(
            f"{ADMIN_REALM_URL}/attack-detection/brute-force/users/{person_id}", json=status
        )

    def accept_unlock(self, person_id: str) -> None:
        url = f"{ADMIN_REALM_URL}/attack-detection/brute-force/users/{person_id}"
        self.kc.delete(url, status=204)

    def logins(self, person_id: str, *times: int) -> None:
        """GET events?user=<id>&type=LOGIN&first=0&max=1 (``times``: epoch milliseconds)."""
        query = {"user": person_id, "type": "LOGIN", "first": "0", "max": "1"}
        events = [{"time": time, "type": "LOGIN", "userId": person_id} for time in times]
        self.kc.get(
            f"{ADMIN_REALM_URL}/events", json=events, match=[matchers.query_param_matcher(query)]
        )

    def admin_events(self, person_id: str, events: list[dict[str, Any]]) -> None:
        """GET admin-events?resourcePath=users/<id>*: what was done to the person."""
        query = {"resourcePath": f"users/{person_id}*", "first": "0", "max": "100"}
        self.kc.get(
            f"{ADMIN_REALM_URL}/admin-events",
            json=events,
            match=[matchers.query_param_matcher(query)],
        )

    # --- support: who the history names (portal.core.keycloak.support_admin) ----------------------

    def portal_account(self) -> None:
        """What the gateway reads once to recognise its own calls in admin events: the realm's
        id and the service-account user of the admin client, found by its username."""
        self.kc.get(ADMIN_REALM_URL, json={"id": REALM_ID, "realm": "collecte"})
        username = "service-account-collecte-portail-admin"
        query = {"username": username, "exact": "true", "first": "0", "max": "2"}
        account = {"id": PORTAL_ACCOUNT_ID, "username": username, "enabled": True}
        self.kc.get(ADMIN_USERS_URL, json=[account], match=[matchers.query_param_matcher(query)])

    def realm(self, lifespan: int = 7 * 24 * 3600, cgu_version: str | None = CGU_VERSION) -> None:
        """GET the realm: how long an invitation link stays valid, the CGU version in force."""
        attributes = {"cguVersion": cgu_version} if cgu_version else {}
        self.kc.get(
            ADMIN_REALM_URL,
            json={
                "realm": "collecte",
                "actionTokenGeneratedByAdminLifespan": lifespan,
                "attributes": attributes,
            },
        )

    def accept_invitation(self, person_id: str, status: int = 204) -> None:
        """PUT users/<id>/execute-actions-email; Keycloak answers 500 when its SMTP fails."""
        body = (
            ""
            if status == 204
            else json.dumps({"errorMessage": "Failed to send execute actions email"})
        )
        self.kc.put(
            f"{ADMIN_USERS_URL}/{person_id}/execute-actions-email", status=status, body=body
        )

    def accept_delete(self, person_id: str) -> None:
        def delete(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
            self.people.pop(person_id)
            return 204, {}, ""

        self.kc.add_callback(responses.DELETE, f"{ADMIN_USERS_URL}/{person_id}", callback=delete)

    def group(self, group: dict[str, Any]) -> None:
        """GET groups/<id> answers the group as it is; a conditional PUT changes it."""
        self.groups[group["id"]] = group
        url = f"{ADMIN_GROUPS_URL}/{group['id']}"
        write_url = f"{GROUP_WRITES_URL}/{group['id']}"

        def update(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
            self.groups[group["id"]] = json.loads(str(request.body))
            return 204, {}, ""

        self.kc.add_callback(
            responses.GET, url, callback=lambda r: (200, {}, json.dumps(self.groups[group["id"]]))
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
        """Every call that could change Keycloak (the token request aside)."""
        return [
            f"{call.request.method} {call.request.url}"
            for call in self.kc.calls
            if call.request.method != "GET" and call.request.url != TOKEN_ENDPOINT
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


@pytest.fixture
def admin_api(kc: responses.RequestsMock) -> Iterator[AdminApi]:
    api = AdminApi(kc)
    yield api
    api.forget_unused()


@pytest.fixture
def sign_in_as(client: FlaskClient) -> Callable[[Mapping[str, Any]], None]:
    """Sign a person in by writing the session as the OIDC callback does (no Keycloak call)."""

    def do_sign_in(person: Mapping[str, Any]) -> None:
        user = SessionUser(
            sub=person["id"],
            email=person["email"],
            given_name=person["firstName"],
            family_name=person["lastName"],
            expires_at=int(time.time()) + 300,
            signed_in_at=int(time.time()),
        )
        with client.session_transaction() as sess:
            sess[USER_KEY] = user.to_session()

    return do_sign_in


@pytest.fixture
def signed_in(
    admin_api: AdminApi, sign_in_as: Callable[[Mapping[str, Any]], None]
) -> Callable[[dict[str, Any]], AdminApi]:
    """Sign a person in; each request then reads them from Keycloak (one service-account
    token per application)."""

    def do_sign_in(person: dict[str, Any]) -> AdminApi:
        admin_api.token()
        admin_api.person(person)
        sign_in_as(person)
        return admin_api

    return do_sign_in


@pytest.fixture
def member(signed_in: Callable[[dict[str, Any]], AdminApi]) -> AdminApi:
    """MEMBER, collection contact of SCOPE_A, is signed in."""
    return signed_in(MEMBER)


SUPPORT_USER = user_json(
    "s0000000-0000-4000-8000-00000000000s", "sam.support@collecte.fr", "Sam", "Support"
)


@pytest.fixture
def support(admin_api: AdminApi, sign_in_as: Callable[[Mapping[str, Any]], None]) -> AdminApi:
    """SUPPORT_USER, who holds the realm role `support`, is signed in: each support page asks
    Keycloak for the role (and reads nothing else about them)."""
    admin_api.token()
    admin_api.roles(SUPPORT_USER["id"], "support", "equipe-plateforme")
    sign_in_as(SUPPORT_USER)
    return admin_api


@pytest.fixture
def post(client: FlaskClient, csrf_token: Callable[[], str]) -> Callable[..., TestResponse]:
    """POST a form as the browser would, with a valid CSRF token."""

    def submit(url: str, data: Mapping[str, Any] | None = None) -> TestResponse:
        return client.post(url, data={**(data or {}), "csrf_token": csrf_token()})

    return submit


# --- Reading pages ----------------------------------------------------------------------------

_VOID_ELEMENTS = frozenset({"area", "br", "col", "hr", "img", "input", "link", "meta", "wbr"})


class Element:
    """A parsed HTML element: enough of a DOM to find things the way a reader does."""

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag = tag
        self.attrs = {name: value or "" for name, value in attrs}
        self.children: list[Element | str] = []

    def text(self) -> str:
        """The visible text, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Elements with this tag and these attributes (``class_``: one of the classes;
        ``data_x``/``aria_x``: ``data-x``/``aria-x``)."""

        def matches(element: Element) -> bool:
            for name, wanted in attrs.items():
                key = name.rstrip("_").replace("_", "-")
                value = element.attrs.get(key)
                found = value.split() if key == "class" and value is not None else [value]
                if wanted not in found:
                    return False
            return tag is None or element.tag == tag

        return [element for element in self.iter() if matches(element)]

    def find(self, tag: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, **attrs)
        assert len(found) == 1, f"{len(found)} × <{tag} {attrs}>"
        return found[0]

    def by_id(self, element_id: str) -> Element:
        return self.find(id=element_id)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", [])
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, attrs)
        self.open[-1].children.append(element)
        if tag not in _VOID_ELEMENTS:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Element(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def html(response: TestResponse) -> Element:
    builder = _TreeBuilder()
    builder.feed(response.get_data(as_text=True))
    builder.close()
    return builder.root


def assert_accessible(page: Element) -> None:
    """Headings in order from one h1, unique ids, a label for each field, check boxes grouped
    in a fieldset with a legend, table headers with a scope."""
    levels = [int(e.tag[1]) for e in page.iter() if re.fullmatch(r"h[1-6]", e.tag)]
    assert levels[:1] == [1] and levels.count(1) == 1, levels
    assert all(after <= before + 1 for before, after in pairwise(levels)), levels
    ids = [e.attrs["id"] for e in page.iter() if "id" in e.attrs]
    assert len(ids) == len(set(ids)), ids
    labelled = {e.attrs.get("for") for e in page.find_all("label")}
    fields = [e for e in page.iter() if e.tag in ("input", "select", "textarea")]
    for field in fields:
        if field.attrs.get("type") != "hidden":
            assert field.attrs.get("id") in labelled, field.attrs
    grouped = [
        box
        for fieldset in page.find_all("fieldset")
        if fieldset.find_all("legend")
        for box in fieldset.find_all("input", type="checkbox")
    ]
    assert len(grouped) == len(page.find_all("input", type="checkbox"))
    assert all(th.attrs.get("scope") in ("col", "row") for th in page.find_all("th"))


def get_page(client: FlaskClient, url: str) -> Element:
    """GET a page that must answer 200 and pass :func:`assert_accessible`."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = html(response)
    assert_accessible(page)
    return page


def assert_field_error(response: TestResponse, field: str, message: str) -> Element:
    """A form that did not go through: ``message`` beside ``field``, announced with it, and in
    the summary at the top of the page."""
    page = html(response)
    assert_accessible(page)
    error = page.by_id(f"{field}-erreur")
    assert error.text() == message
    [block] = [b for b in page.find_all(class_="champ") if error in b.iter()]
    inputs = block.find_all(name=field)
    assert inputs, f"{field} is not beside its error"
    for element in inputs:
        assert f"{field}-erreur" in element.attrs["aria-describedby"].split()
        assert element.attrs["aria-invalid"] == "true"
    assert message in page.find("div", class_="resume-erreurs").text()
    assert page.find("title").text().startswith("Erreur : ")
    return page


def flashes(client: FlaskClient) -> list[tuple[str, str]]:
    with client.session_transaction() as sess:
        return [(category, message) for category, message in sess.get("_flashes", [])]


class FakeSMTP:
    """Stands for smtplib.SMTP: keeps what is sent in ``outbox``."""

    outbox: list[EmailMessage]

    def __init__(self, host: str, port: int, timeout: int) -> None:
        self.address = (host, port)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def send_message(self, message: EmailMessage) -> None:
        self.outbox.append(message)


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmailMessage]]:
    messages: list[EmailMessage] = []
    monkeypatch.setattr(FakeSMTP, "outbox", messages, raising=False)
    monkeypatch.setattr("portal.core.notify.smtplib.SMTP", FakeSMTP)
    yield messages
