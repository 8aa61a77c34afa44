"""The people of the unit tests: the signed-in member, a technician, an outsider, support
staff, and a session user as the OIDC callback stores it."""

from __future__ import annotations

import time
from typing import Any

from tests.helpers.admin_api_json import CGU_VERSION, SCOPE_A, SCOPE_B, user_json


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
SUPPORT_USER = user_json(
    "s0000000-0000-4000-8000-00000000000s", "sam.support@collecte.fr", "Sam", "Support"
)
