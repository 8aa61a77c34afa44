"""What the test modules of the Suivi des activations share: its address, the signed-in
coordinator, the collection contacts of GRP-DEMO in each state, and the Admin API answers
(`dataset`) every page starts from."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from responses import matchers
from werkzeug.test import TestResponse

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import (
    CGU_VERSION,
    GROUPEMENT,
    SIREN_A,
    SIREN_B,
    group_json,
    user_json,
)
from tests.helpers.personas import TECHNICIAN
from tests.helpers.settings import ADMIN_GROUPS_URL, ADMIN_REALM_URL, ADMIN_USERS_URL

Post = Callable[..., TestResponse]
SignIn = Callable[[Mapping[str, Any]], None]
BASE = f"/coordination/{GROUPEMENT}"
NOW = int(time.time())
DAY = 24 * 3600
PASSWORD_SET = 1795881000000  # epoch ms: 2026-11-28
LAST_LOGIN = 1795967400000  # epoch ms: 2026-11-29 15:50 UTC

COORDINATOR = user_json(
    "c0000000-0000-4000-8000-00000000000c", "claire.martin@groupement.fr", "Claire", "Martin"
)


def invited(sent: int, expires: int) -> dict[str, list[str]]:
    return {"invitationEnvoyeeLe": [str(sent)], "invitationExpireLe": [str(expires)]}


#: Activated on SIREN A lots 1 and 2 (principal of lot 1), CGU accepted.
ACTIVE = user_json(
    "p0000000-0000-4000-8000-000000000001",
    "alice.active@demoville.fr",
    "Alice",
    "Active",
    collecte=[f"{SIREN_A}/1", f"{SIREN_A}/2"],
    terms_and_conditions=["1795881002"],
    cguVersionAcceptee=[CGU_VERSION],
    **invited(NOW - 20 * DAY, NOW - 13 * DAY),
)
#: Invited yesterday on SIREN A lot 1, link still valid.
INVITED = user_json(
    "p0000000-0000-4000-8000-000000000002",
    "bruno.invite@demoville.fr",
    "Bruno",
    "Invité",
    collecte=[f"{SIREN_A}/1"],
    **invited(NOW - DAY, NOW + 6 * DAY),
)
#: Invited on SIREN B lot 1, link expired three days ago.
EXPIRED = user_json(
    "p0000000-0000-4000-8000-000000000003",
    "chloe.expiree@syndicat-demoville.fr",
    "Chloé",
    "Expirée",
    collecte=[f"{SIREN_B}/1"],
    **invited(NOW - 10 * DAY, NOW - 3 * DAY),
)
#: Never invited, SIREN B lot 1.
NEVER = user_json(
    "p0000000-0000-4000-8000-000000000004",
    "denis.jamais@syndicat-demoville.fr",
    "Denis",
    "Jamais",
    collecte=[f"{SIREN_B}/1"],
)
NOT_ACTIVATED = (INVITED, EXPIRED, NEVER)


def staff_groups(api: AdminApi, person_id: str, *codes: str) -> None:
    """GET users/<id>/groups: the coordinator's marker groups."""
    groups = [
        {"id": f"m-{code}", "name": code, "path": f"/coordonnateurs/{code}"} for code in codes
    ]
    # python-keycloak sends the boolean as Python writes it.
    query = {"briefRepresentation": "True", "first": "0", "max": "100"}
    api.kc.get(
        f"{ADMIN_USERS_URL}/{person_id}/groups",
        json=groups,
        match=[matchers.query_param_matcher(query)],
    )


def paged(api: AdminApi, url: str, items: list[dict[str, Any]], **params: str) -> None:
    query = {**params, "first": "0", "max": "100"}
    api.kc.get(url, json=items, match=[matchers.query_param_matcher(query)])


def dataset(api: AdminApi, not_activated: tuple[dict[str, Any], ...] = NOT_ACTIVATED) -> None:
    """GRP-DEMO: adherent A (lots 1, 2; ACTIVE principal of lot 1) with ACTIVE, INVITED and a
    technical contact; adherent B (lots 1, 2) with EXPIRED and NEVER. ``not_activated``: other
    people in place of INVITED, EXPIRED and NEVER (addresses read as formulas, say)."""
    invited, expired, never = not_activated
    groupement = {"id": "g-groupement", "name": GROUPEMENT, "path": f"/{GROUPEMENT}"}
    api.kc.get(f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}", json=groupement)
    children = [group_json(SIREN_A, lot_1=ACTIVE["id"]), group_json(SIREN_B)]
    paged(api, f"{ADMIN_GROUPS_URL}/g-groupement/children", children, briefRepresentation="false")
    members = {SIREN_A: [ACTIVE, invited, TECHNICIAN], SIREN_B: [expired, never]}
    for siren, people in members.items():
        url = f"{ADMIN_GROUPS_URL}/g-{siren}/members"
        paged(api, url, people, briefRepresentation="false")
    api.credentials(ACTIVE["id"], PASSWORD_SET)
    for person in not_activated:
        api.credentials(person["id"])
    api.logins(ACTIVE["id"], LAST_LOGIN)
    api.realm()
