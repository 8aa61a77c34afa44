"""What Keycloak 26.7.3 does with a user written through the Admin API of the realm `collecte`,
as the unit tests' fake (tests/helpers/admin_api.py) applies it.

The rules come from the realm as code (`keycloak/user-profile.json`, `realm-export.json`), read
when the fake starts, so the fake follows a change of the profile; the answers (status, error
bodies, what is stored) are those the real server gives, held by the contract test
(tests/integration/test_admin_api_contract.py, cases in tests/helpers/admin_api_cases.py).

Covered: creation and update (POST /users, PUT /users/<id>): 409 for an e-mail another user has
(any case), 400 for a profile error (required, e-mail, pattern, options, a read-only attribute
changed, a stale revision), what is stored (e-mail and username lowercased, username following
the e-mail, unmanaged and read-only attributes dropped on creation and kept on update, the
realm's default required actions, a new revision per write). Not covered: the length and
character-set validators and our extensions' coordinator rules (the portal's own forms check
names; coordinators are tested against Keycloak).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PROFILE_FILE = ROOT / "keycloak" / "user-profile.json"
REALM_FILE = ROOT / "realm-export.json"

#: Attributes of the profile held at the top level of a representation.
ROOT_ATTRIBUTES = ("username", "email", "firstName", "lastName")
#: Keycloak's answer when another user has the e-mail (creation or update, any case).
EMAIL_TAKEN: dict[str, Any] = {"errorMessage": "User exists with same email"}
#: Our RevisionValidator's message (keycloak/providers/.../RevisionValidator.java).
REVISION_CHANGED = (
    "cette fiche a été modifiée par ailleurs depuis que vous l’avez ouverte : rechargez-la, "
    "puis refaites votre modification."
)
#: Top-level fields an Admin API update sets when sent (the others are read-only or derived).
_UPDATABLE = ("firstName", "lastName", "enabled", "emailVerified", "requiredActions")
# Keycloak's own e-mail check is looser than RFC 5322 and stricter than "has an @": this is
# the part of it the portal's data can meet (one @, a dotted domain, no spaces).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Answer:
    """An HTTP answer of the fake: status, JSON body (None: empty) and headers."""

    def __init__(
        self, status: int, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})

    def callback(self) -> tuple[int, dict[str, str], str]:
        """As a `responses` callback returns it."""
        return (
            self.status,
            self.headers,
            "" if self.body is None else json.dumps(self.body, separators=(",", ":")),
        )


class Profile:
    """The realm's declarative user profile, for the Admin API (context USER_API, role admin)."""

    def __init__(self, profile: Mapping[str, Any], realm: Mapping[str, Any]) -> None:
        self.attributes: dict[str, Mapping[str, Any]] = {
            str(a["name"]): a for a in profile["attributes"]
        }
        self.default_actions = [
            str(action["alias"])
            for action in sorted(realm.get("requiredActions", []), key=lambda a: a["priority"])
            if action.get("enabled") and action.get("defaultAction")
        ]

    @classmethod
    def of_realm(cls) -> Profile:
        return cls(json.loads(PROFILE_FILE.read_text()), json.loads(REALM_FILE.read_text()))

    def admin_may_edit(self, name: str) -> bool:
        """Unmanaged attributes are read-only for admins (policy ADMIN_VIEW)."""
        spec = self.attributes.get(name)
        return spec is not None and "admin" in spec.get("permissions", {}).get("edit", [])

    def problems(
        self, sent: Mapping[str, Any], stored: Mapping[str, Any] | None
    ) -> list[dict[str, Any]]:
        """Keycloak's errors for this creation (``stored`` None) or update, in profile order."""
        read_only: list[dict[str, Any]] = []  # Keycloak lists these first
        found: list[dict[str, Any]] = []
        for name, spec in self.attributes.items():
            if name == "username":
                continue  # the e-mail is the username (registrationEmailAsUsername)
            # what an update leaves out is kept as stored (all attributes when `attributes` is)
            kept = stored is not None and not _was_sent(sent, name)
            values = _values(stored if kept and stored is not None else sent, name)
            if stored is not None and not self.admin_may_edit(name):
                # left out of `attributes`, a read-only attribute is kept, not removed
                if _key_sent(sent, name) and values != _values(stored, name):
                    read_only.append(_error(name, "error-user-attribute-read-only", [name]))
                continue
            if stored is None and not self.admin_may_edit(name):
                continue  # dropped on creation
            problem = self._check(name, spec, values, sent, stored)
            if problem is not None:
                found.append(problem)
        return [*read_only, *found]

    def _check(
        self,
        name: str,
        spec: Mapping[str, Any],
        values: list[str],
        sent: Mapping[str, Any],
        stored: Mapping[str, Any] | None,
    ) -> dict[str, Any] | None:
        validations = spec.get("validations", {})
        if "collecte-revision" in validations and stored is not None:
            if values != _values(stored, name):
                return _error(name, REVISION_CHANGED, [name])
            return None
        present = [value for value in values if value]
        if not present:
            if "admin" in spec.get("required", {}).get("roles", []):
                return _error(name, "error-user-attribute-required", [name])
            return None
        for value in present:
            if "email" in validations and not _EMAIL.match(value):
                return _error(name, "error-invalid-email", [name, value])
            pattern = validations.get("pattern")
            if pattern is not None and not re.fullmatch(pattern["pattern"], value):
                message = pattern.get("error-message", "error-pattern-no-match")
                return _error(name, message, [name, pattern["pattern"]])
            options = validations.get("options")
            if options is not None and value not in options["options"]:
                return _error(name, "error-invalid-value", [name])
        return None

    def created(self, sent: Mapping[str, Any], person_id: str, now_ms: int) -> dict[str, Any]:
        """The user as GET /users/<id> answers it right after POST /users."""
        email = str(sent.get("email") or "").lower()
        attributes = {
            name: list(values)
            for name, values in (sent.get("attributes") or {}).items()
            if self.admin_may_edit(name) and name not in ROOT_ATTRIBUTES and values
        }
        attributes["revision"] = [str(uuid.uuid4())]
        actions = [*self.default_actions]
        actions += [a for a in sent.get("requiredActions", []) if a not in actions]
        return {
            "id": person_id,
            "username": email,
            "firstName": sent.get("firstName"),
            "lastName": sent.get("lastName"),
            "email": email,
            "emailVerified": bool(sent.get("emailVerified", False)),
            "attributes": attributes,
            "enabled": bool(sent.get("enabled", False)),
            "createdTimestamp": now_ms,
            "totp": False,
            "disableableCredentialTypes": [],
            "requiredActions": actions,
            "notBefore": 0,
            "access": {"manage": True},
        }

    def updated(self, stored: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
        """The user after an accepted PUT: what the admin may edit as sent (an attribute left
        out of a sent `attributes` is removed), the rest as stored, a new revision."""
        result = json.loads(json.dumps(stored))
        for key in _UPDATABLE:
            if key in sent:
                result[key] = sent[key]
        if sent.get("email"):
            result["email"] = result["username"] = str(sent["email"]).lower()
        if "attributes" in sent:
            kept = {
                name: values
                for name, values in (stored.get("attributes") or {}).items()
                if not self.admin_may_edit(name)
            }
            edited = {
                name: list(values)
                for name, values in (sent["attributes"] or {}).items()
                if self.admin_may_edit(name) and name not in ROOT_ATTRIBUTES and values
            }
            result["attributes"] = {**kept, **edited}
        result.setdefault("attributes", {})["revision"] = [str(uuid.uuid4())]
        return dict(result)


def email_taken(email: Any, people: Iterable[Mapping[str, Any]], but: str | None = None) -> bool:
    """Another user than ``but`` has this e-mail (Keycloak compares them lowercased)."""
    wanted = str(email or "").lower()
    return bool(wanted) and any(
        str(p.get("email") or "").lower() == wanted and p.get("id") != but for p in people
    )


def error_body(problems: list[dict[str, Any]]) -> dict[str, Any]:
    """One error is the body itself; several are listed under `errors`."""
    return problems[0] if len(problems) == 1 else {"errors": problems}


def _values(representation: Mapping[str, Any], name: str) -> list[str]:
    if name in ROOT_ATTRIBUTES:
        value = representation.get(name)
        return [] if value is None else [str(value)]
    found = (representation.get("attributes") or {}).get(name) or []
    return [str(value) for value in found]


def _was_sent(representation: Mapping[str, Any], name: str) -> bool:
    """Whether an update speaks of this attribute: a root one by its key, the others as soon
    as `attributes` is sent (one left out of it is then removed)."""
    if name in ROOT_ATTRIBUTES:
        return name in representation
    return "attributes" in representation


def _key_sent(representation: Mapping[str, Any], name: str) -> bool:
    if name in ROOT_ATTRIBUTES:
        return name in representation
    return name in (representation.get("attributes") or {})


def _error(name: str, message: str, params: list[str]) -> dict[str, Any]:
    return {"field": name, "errorMessage": message, "params": params}


class Users:
    """The users of the fake realm and the Admin API calls that read and write them."""

    def __init__(self, profile: Profile | None = None) -> None:
        self.profile = profile or Profile.of_realm()
        self.people: dict[str, dict[str, Any]] = {}
        self._clock_ms = 1_800_000_000_000

    def create(self, sent: Mapping[str, Any], person_id: str, location: str) -> Answer:
        """POST /users: 409 if the e-mail is taken, 400 for a profile error, else 201."""
        if email_taken(sent.get("email"), self.people.values()):
            return Answer(409, EMAIL_TAKEN)
        problems = self.profile.problems(sent, None)
        if problems:
            return Answer(400, error_body(problems))
        self._clock_ms += 1
        self.people[person_id] = self.profile.created(sent, person_id, self._clock_ms)
        return Answer(201, headers={"Location": location})

    def update(self, person_id: str, sent: Mapping[str, Any]) -> Answer:
        """PUT /users/<id>: 404, 409 (e-mail of another), 400 (profile), else 204."""
        stored = self.people.get(person_id)
        if stored is None:
            return Answer(404, {"error": "User not found"})
        if "email" in sent and email_taken(sent["email"], self.people.values(), person_id):
            return Answer(409, EMAIL_TAKEN)
        problems = self.profile.problems(sent, stored)
        if problems:
            return Answer(400, error_body(problems))
        self.people[person_id] = self.profile.updated(stored, sent)
        return Answer(204)

    def read(self, person_id: str) -> Answer:
        stored = self.people.get(person_id)
        return Answer(404, {"error": "User not found"}) if stored is None else Answer(200, stored)
