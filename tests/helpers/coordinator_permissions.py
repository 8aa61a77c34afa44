"""The two groupements of the coordinators' Admin API tests, GRP-NORD and GRP-SUD: shared by
tests/integration/test_coordinator_permissions.py and
tests/integration/test_coordinator_principals.py.

Their codes and SIRENs are fixed, so they can be provisioned only once per Keycloak (a second
`groupement()` would find the coordinator already there): the module-scoped fixture `world`,
imported by both modules, provisions them at its first call of the test session and hands the
same groupements to the other module (kept in the session's stash). Also `forbidden`, the 403
check of Keycloak's permissions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from keycloak.exceptions import KeycloakError

from tests.helpers.coordination import Groupement, adherent, groupement

NORD, SUD = "GRP-NORD", "GRP-SUD"
SIREN_NORD, SIREN_NORD_2, SIREN_SUD = "213590003", "213590011", "213590029"

_WORLD = pytest.StashKey[dict[str, Groupement]]()


@pytest.fixture(scope="module")
def world(platform: Any, request: pytest.FixtureRequest) -> dict[str, Groupement]:
    stash = request.session.stash
    if _WORLD not in stash:
        stash[_WORLD] = {
            code: groupement(platform, code, siren)
            for code, siren in ((NORD, SIREN_NORD), (SUD, SIREN_SUD))
        }
        adherent(platform.admin, NORD, SIREN_NORD_2)  # joins the permission at once (the listener)
    return stash[_WORLD]


@pytest.fixture
def nord(world: dict[str, Groupement]) -> Groupement:
    return world[NORD]


@pytest.fixture
def sud(world: dict[str, Groupement]) -> Groupement:
    return world[SUD]


def forbidden(call: Callable[[], Any]) -> None:
    with pytest.raises(KeycloakError) as refused:
        call()
    assert refused.value.response_code == 403, refused.value
