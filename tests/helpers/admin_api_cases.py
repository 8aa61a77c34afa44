"""The Admin API requests the gateway relies on, as cases run the same way against the real
Keycloak (tests/integration/test_admin_api_contract.py) and the unit tests' fake
(tests/unit/core/keycloak/test_admin_api_fake.py): when Keycloak answers otherwise, the contract
test fails and the fake (tests/helpers/keycloak_users.py) is to be changed with it.

A case sends its requests through an :class:`Api` and returns what it observed, reduced to what
does not vary between runs (statuses, error bodies, stored fields; whether a revision changed
rather than its value); ``expected`` is what Keycloak 26.7.3 answered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
import responses

from tests.helpers.keycloak_users import EMAIL_TAKEN, REVISION_CHANGED, Users

USERS = "admin/realms/collecte/users"
PHONE = "^\\+[1-9][0-9]{6,14}$"
SCOPE_PATTERN = "^[0-9]{9}/[A-Za-z0-9][A-Za-z0-9-]{0,19}$"
PHONE_ERROR = "Numéro de téléphone attendu au format international, par exemple +33123456789."
SCOPE_ERROR = (
    "Valeur attendue : SIREN à 9 chiffres, une barre oblique, puis le lot (ex. 213100017/1)."
)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    location: str | None


class Api(Protocol):
    def post(self, path: str, body: Mapping[str, Any]) -> Reply: ...

    def put(self, path: str, body: Mapping[str, Any]) -> Reply: ...

    def get(self, path: str) -> Reply: ...


def reply(response: requests.Response) -> Reply:
    body = response.json() if response.content else None
    return Reply(response.status_code, body, response.headers.get("Location"))


class FakeApi:
    """The fake behind `responses`, as the unit tests' AdminApi serves it, asked over HTTP."""

    def __init__(self, kc: responses.RequestsMock, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.users = Users()
        serve(kc, self.users, f"{self.base}/{USERS}")

    def post(self, path: str, body: Mapping[str, Any]) -> Reply:
        return reply(requests.post(f"{self.base}/{path}", json=body, timeout=5))

    def put(self, path: str, body: Mapping[str, Any]) -> Reply:
        return reply(requests.put(f"{self.base}/{path}", json=body, timeout=5))

    def get(self, path: str) -> Reply:
        return reply(requests.get(f"{self.base}/{path}", timeout=5))


def serve(kc: responses.RequestsMock, users: Users, users_url: str) -> None:
    """POST users, GET and PUT users/<id> of any id, answered by ``users``."""
    one = re.compile(re.escape(users_url) + r"/([^/?]+)$")
    counter = iter(range(1, 1_000_000))

    def create(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        person_id = f"00000000-0000-4000-8000-{next(counter):012d}"
        sent = _body(request)
        return users.create(sent, person_id, f"{users_url}/{person_id}").callback()

    def person_id(request: requests.PreparedRequest) -> str:
        found = one.match(str(request.url))
        assert found is not None
        return found.group(1)

    kc.add_callback(responses.POST, users_url, callback=create)
    kc.add_callback(responses.GET, one, callback=lambda r: users.read(person_id(r)).callback())
    kc.add_callback(
        responses.PUT,
        one,
        callback=lambda r: users.update(person_id(r), _body(r)).callback(),
    )


def _body(request: requests.PreparedRequest) -> Any:
    body = request.body
    return json.loads(body if isinstance(body, bytes | str) else "null")


# --- the cases -------------------------------------------------------------------------------


def _new_user(email: str, **attributes: list[str]) -> dict[str, Any]:
    return {
        "email": email,
        "firstName": "Anne",
        "lastName": "Durand",
        "enabled": True,
        "attributes": {"telephoneFixe": ["+33299000000"], **attributes},
    }


def _create(api: Api, body: Mapping[str, Any]) -> str:
    created = api.post(USERS, body)
    assert created.status == 201 and created.location, created
    return created.location.rsplit("/", 1)[1]


def _read(api: Api, person_id: str) -> dict[str, Any]:
    found = api.get(f"{USERS}/{person_id}")
    assert found.status == 200, found
    return dict(found.body)


def duplicate_email(api: Api, email: str) -> dict[str, Any]:
    """A creation with an e-mail someone has, in other letters case and with another username."""
    _create(api, _new_user(email))
    again = api.post(USERS, {**_new_user(email.upper()), "username": f"autre-{email}"})
    return {"status": again.status, "body": again.body}


def duplicate_email_and_profile_error(api: Api, email: str) -> dict[str, Any]:
    _create(api, _new_user(email))
    again = api.post(USERS, _new_user(email, telephoneFixe=["0299"]))
    return {"status": again.status, "body": again.body}


def invalid_phone(api: Api, email: str) -> dict[str, Any]:
    refused = api.post(USERS, _new_user(email, telephoneFixe=["02 99 00 00 00"]))
    return {"status": refused.status, "body": refused.body}


def two_profile_errors(api: Api, email: str) -> dict[str, Any]:
    refused = api.post(USERS, _new_user(email, telephoneFixe=["0299"], collecte=["12/1"]))
    return {"status": refused.status, "body": refused.body}


def missing_last_name(api: Api, email: str) -> dict[str, Any]:
    body = _new_user(email)
    del body["lastName"]
    refused = api.post(USERS, body)
    return {"status": refused.status, "body": refused.body}


def invalid_option(api: Api, email: str) -> dict[str, Any]:
    refused = api.post(USERS, _new_user(email, demandeCollecteEnAttente=["non"]))
    return {"status": refused.status, "body": refused.body}


def fresh_user(api: Api, email: str) -> dict[str, Any]:
    """What Keycloak adds to a new user and what it drops (unmanaged and read-only attributes,
    the username sent)."""
    body = _new_user(
        email.capitalize(),
        terms_and_conditions=["1"],
        cguVersionAcceptee=["pirate"],
        inconnu=["x"],
    )
    person = _read(api, _create(api, {**body, "username": "choisi", "requiredActions": []}))
    return {
        "username is the e-mail lowercased": person["username"] == email.lower(),
        "email": person["email"] == email.lower(),
        "emailVerified": person["emailVerified"],
        "requiredActions": person["requiredActions"],
        "attributes": sorted(person["attributes"]),
        "totp": person["totp"],
        "disableableCredentialTypes": person["disableableCredentialTypes"],
        "notBefore": person["notBefore"],
        "createdTimestamp": isinstance(person["createdTimestamp"], int),
    }


def update_read_only(api: Api, email: str) -> dict[str, Any]:
    """An update changing the CGU version accepted (read-only for admins) is refused whole."""
    person_id = _create(api, _new_user(email))
    before = _read(api, person_id)
    sent = json.loads(json.dumps(before))
    sent["attributes"]["cguVersionAcceptee"] = ["2099-01"]
    sent["firstName"] = "Zoé"
    refused = api.put(f"{USERS}/{person_id}", sent)
    return {
        "status": refused.status,
        "body": refused.body,
        "unchanged": _read(api, person_id) == before,
    }


def update_unmanaged(api: Api, email: str) -> dict[str, Any]:
    """Unmanaged attributes sent with an update (ADMIN_VIEW) are ignored, the rest is written."""
    person_id = _create(api, _new_user(email))
    sent = _read(api, person_id)
    sent["attributes"].update(terms_and_conditions=["1"], inconnu=["x"])
    sent["firstName"] = "Zoé"
    written = api.put(f"{USERS}/{person_id}", sent)
    after = _read(api, person_id)
    return {
        "status": written.status,
        "firstName": after["firstName"],
        "attributes": sorted(after["attributes"]),
    }


def update_stale_revision(api: Api, email: str) -> dict[str, Any]:
    person_id = _create(api, _new_user(email))
    sent = _read(api, person_id)
    sent["attributes"]["revision"] = ["périmée"]
    refused = api.put(f"{USERS}/{person_id}", sent)
    return {"status": refused.status, "body": refused.body}


def update_invalid_phone(api: Api, email: str) -> dict[str, Any]:
    person_id = _create(api, _new_user(email))
    sent = _read(api, person_id)
    sent["attributes"]["telephoneFixe"] = ["0299"]
    refused = api.put(f"{USERS}/{person_id}", sent)
    return {"status": refused.status, "body": refused.body}


def update_three_errors(api: Api, email: str) -> dict[str, Any]:
    """The read-only attribute's error comes first, then the others in profile order."""
    person_id = _create(api, _new_user(email))
    sent = _read(api, person_id)
    sent["attributes"].update(telephoneFixe=["0299"], collecte=["1/1"], cguVersionAcceptee=["v"])
    refused = api.put(f"{USERS}/{person_id}", sent)
    return {"status": refused.status, "body": refused.body}


def update_without_attributes(api: Api, email: str) -> dict[str, Any]:
    """An update without `attributes` keeps them all (the revision check has nothing to see)."""
    person_id = _create(api, _new_user(email))
    sent = _read(api, person_id)
    del sent["attributes"]
    sent["firstName"] = "Zoé"
    written = api.put(f"{USERS}/{person_id}", sent)
    after = _read(api, person_id)
    return {
        "status": written.status,
        "firstName": after["firstName"],
        "attributes": sorted(after["attributes"]),
    }


def update_to_taken_email(api: Api, email: str) -> dict[str, Any]:
    _create(api, _new_user(f"autre-{email}"))
    person_id = _create(api, _new_user(email))
    sent = {**_read(api, person_id), "email": f"AUTRE-{email}"}
    refused = api.put(f"{USERS}/{person_id}", sent)
    return {"status": refused.status, "body": refused.body}


def update_email_and_drop_phone(api: Api, email: str) -> dict[str, Any]:
    """The username follows the new e-mail, lowercased; an attribute left out is removed; the
    revision changes; the username sent is ignored."""
    person_id = _create(api, _new_user(email))
    before = _read(api, person_id)
    sent = json.loads(json.dumps(before))
    del sent["attributes"]["telephoneFixe"]
    sent["attributes"]["telephoneMobile"] = []  # an empty value is no value
    sent.update(email=f"Nouveau-{email}", username="choisi", requiredActions=[])
    written = api.put(f"{USERS}/{person_id}", sent)
    after = _read(api, person_id)
    return {
        "status": written.status,
        "email": after["email"] == f"nouveau-{email}".lower(),
        "username": after["username"] == after["email"],
        "attributes": sorted(after["attributes"]),
        "new revision": after["attributes"]["revision"] != before["attributes"]["revision"],
        "requiredActions": after["requiredActions"],
    }


def _field(name: str, message: str, *params: str) -> dict[str, Any]:
    return {"field": name, "errorMessage": message, "params": [name, *params]}


@dataclass(frozen=True)
class Case:
    run: Callable[[Api, str], dict[str, Any]]
    expected: dict[str, Any]

    @property
    def name(self) -> str:
        return self.run.__name__


CASES = [
    Case(duplicate_email, {"status": 409, "body": EMAIL_TAKEN}),
    Case(duplicate_email_and_profile_error, {"status": 409, "body": EMAIL_TAKEN}),
    Case(invalid_phone, {"status": 400, "body": _field("telephoneFixe", PHONE_ERROR, PHONE)}),
    Case(
        two_profile_errors,
        {
            "status": 400,
            "body": {
                "errors": [
                    _field("telephoneFixe", PHONE_ERROR, PHONE),
                    _field("collecte", SCOPE_ERROR, SCOPE_PATTERN),
                ]
            },
        },
    ),
    Case(
        missing_last_name,
        {"status": 400, "body": _field("lastName", "error-user-attribute-required")},
    ),
    Case(
        invalid_option,
        {"status": 400, "body": _field("demandeCollecteEnAttente", "error-invalid-value")},
    ),
    Case(
        fresh_user,
        {
            "username is the e-mail lowercased": True,
            "email": True,
            "emailVerified": False,
            "requiredActions": ["TERMS_AND_CONDITIONS"],
            "attributes": ["revision", "telephoneFixe"],
            "totp": False,
            "disableableCredentialTypes": [],
            "notBefore": 0,
            "createdTimestamp": True,
        },
    ),
    Case(
        update_read_only,
        {
            "status": 400,
            "body": _field("cguVersionAcceptee", "error-user-attribute-read-only"),
            "unchanged": True,
        },
    ),
    Case(
        update_unmanaged,
        {"status": 204, "firstName": "Zoé", "attributes": ["revision", "telephoneFixe"]},
    ),
    Case(update_stale_revision, {"status": 400, "body": _field("revision", REVISION_CHANGED)}),
    Case(
        update_invalid_phone, {"status": 400, "body": _field("telephoneFixe", PHONE_ERROR, PHONE)}
    ),
    Case(
        update_three_errors,
        {
            "status": 400,
            "body": {
                "errors": [
                    _field("cguVersionAcceptee", "error-user-attribute-read-only"),
                    _field("telephoneFixe", PHONE_ERROR, PHONE),
                    _field("collecte", SCOPE_ERROR, SCOPE_PATTERN),
                ]
            },
        },
    ),
    Case(
        update_without_attributes,
        {"status": 204, "firstName": "Zoé", "attributes": ["revision", "telephoneFixe"]},
    ),
    Case(update_to_taken_email, {"status": 409, "body": EMAIL_TAKEN}),
    Case(
        update_email_and_drop_phone,
        {
            "status": 204,
            "email": True,
            "username": True,
            "attributes": ["revision"],
            "new revision": True,
            "requiredActions": [],
        },
    ),
]
