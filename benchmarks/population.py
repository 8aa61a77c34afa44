"""The people the benchmarks need, made fast through the bootstrap admin (benchmark set-up only,
as tests/conftest.py does: the product never sets a password).

A groupement of N collection contacts is written with one partial import: ten people per
adherent, lots 1 and 2; a share of them « activated » with an already hashed password (Keycloak
stores it as given, so thousands cost no hashing) and no pending action.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin
from stdnum import luhn

from portal.core.keycloak import schema

PER_ADHERENT = 10
PASSWORD = "Mesure-Perf-2026!"  # noqa: S105 - benchmark set-up only
HASH_ITERATIONS = 27_500
_SIREN_BLOCKS = itertools.count(70_000_000, 100_000)


def siren(number: int) -> str:
    base = f"{number:08d}"
    return base + luhn.calc_check_digit(base)


def _hashed_password(password: str) -> dict[str, Any]:
    """A pbkdf2-sha256 credential as Keycloak stores it, so that the import hashes nothing."""
    salt = uuid.uuid4().bytes
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, HASH_ITERATIONS, 32)
    return {
        "type": "password",
        "createdDate": 1_760_000_000_000,
        "secretData": json.dumps(
            {
                "value": base64.b64encode(digest).decode(),
                "salt": base64.b64encode(salt).decode(),
                "additionalParameters": {},
            }
        ),
        "credentialData": json.dumps(
            {"hashIterations": HASH_ITERATIONS, "algorithm": "pbkdf2-sha256"}
        ),
    }


@dataclass(frozen=True)
class Groupement:
    code: str
    sirens: tuple[str, ...]
    emails: tuple[str, ...]  # in order: the first `activated` ones are activated


def groupement(admin: KeycloakAdmin, size: int, activated: int, tag: str) -> Groupement:
    """A groupement of `size` collection contacts, the first `activated` with a password."""
    code = f"PERF-{tag}-{uuid.uuid4().hex[:5].upper()}"
    admin.create_group({"name": code})
    parent = admin.get_group_by_path(f"/{code}")["id"]
    first = next(_SIREN_BLOCKS)
    sirens = tuple(siren(first + n) for n in range((size + PER_ADHERENT - 1) // PER_ADHERENT))
    for number, name in enumerate(sirens):
        admin.create_group(
            {
                "name": name,
                "attributes": {schema.COMPANY_NAME: [f"Commune {number}"], schema.LOTS: ["1", "2"]},
            },
            parent=parent,
        )
    # the hash is the same work for everyone: computed once, the salt shared
    credential = _hashed_password(PASSWORD)
    users, emails = [], []
    for index in range(size):
        email = f"p{index}-{code.lower()}@mesure.fr"
        emails.append(email)
        adherent = sirens[index // PER_ADHERENT]
        user: dict[str, Any] = {
            "username": email,
            "email": email,
            "emailVerified": True,
            "firstName": "Prénom",
            "lastName": f"Nom{index}",
            "enabled": True,
            "attributes": {schema.COLLECTION: [f"{adherent}/1", f"{adherent}/2"]},
            "groups": [f"/{code}/{adherent}"],
            "requiredActions": [] if index < activated else [schema.TERMS_AND_CONDITIONS],
        }
        if index < activated:
            user["credentials"] = [credential]
        users.append(user)
    connection = admin.connection
    timeout, connection.timeout = connection.timeout, 600
    try:
        for start in range(0, size, 500):
            response = connection.raw_post(
                f"admin/realms/{schema.REALM}/partialImport",
                data=json.dumps({"ifResourceExists": "FAIL", "users": users[start : start + 500]}),
            )
            response.raise_for_status()
    finally:
        connection.timeout = timeout
    return Groupement(code, sirens, tuple(emails))


def make_support(admin: KeycloakAdmin) -> str:
    """An activated support agent (realm role ``support``); returns the e-mail."""
    email = f"support-{uuid.uuid4().hex[:8]}@mesure.fr"
    person_id = admin.create_user(
        {
            "username": email,
            "email": email,
            "emailVerified": True,
            "firstName": "Sam",
            "lastName": "Support",
            "enabled": True,
        }
    )
    admin.set_user_password(person_id, PASSWORD, temporary=False)
    admin.assign_realm_roles(person_id, [admin.get_realm_role(schema.SUPPORT_ROLE)])
    return email
