"""What the coordinator write tests share: their two groupements and a colleague, a person's
representation, the refusal of Keycloak's user profile. Shared by
tests/integration/test_coordinator_function_writes.py and
tests/integration/test_coordinator_email_writes.py.

`world` is module-scoped and its codes and SIRENs are fresh: each of the two modules provisions
its own two groupements.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from keycloak.exceptions import KeycloakError

from tests.helpers.coordination import Groupement, add_colleague, adherent, groupement, new_email
from tests.helpers.realm_data import fresh_siren


class World(NamedTuple):
    nord: Groupement
    sud: Groupement
    siren_nord: str  # lots ["1"], with its principal
    siren_nord_2: str  # lots ["1"]
    siren_sud: str


@pytest.fixture(scope="module")
def world(platform: Any) -> World:
    suffix = uuid.uuid4().hex[:6].upper()
    nord_code, sud_code = f"GRP-N{suffix}", f"GRP-S{suffix}"
    siren_nord, siren_nord_2, siren_sud = fresh_siren(), fresh_siren(), fresh_siren()
    nord = groupement(platform, nord_code, siren_nord)
    sud = groupement(platform, sud_code, siren_sud)
    adherent(platform.admin, nord_code, siren_nord_2)
    return World(nord, sud, siren_nord, siren_nord_2, siren_sud)


@pytest.fixture
def nord(world: World) -> Groupement:
    return world.nord


@pytest.fixture
def sud(world: World) -> Groupement:
    return world.sud


@pytest.fixture
def colleague(platform: Any, world: World) -> str:
    """A member of the nord adherent, not its principal, not activated."""
    return add_colleague(platform.admin, world.nord.code, world.siren_nord)


def errors(error: KeycloakError) -> list[dict[str, Any]]:
    body = json.loads(error.response_body)
    return list(body.get("errors") or [body])


def refused(call: Callable[[], Any], field: str, text: str) -> None:
    """Keycloak's user profile refused the write: 400, the French sentence on the field."""
    with pytest.raises(KeycloakError) as refusal:
        call()
    assert refusal.value.response_code == 400, refusal.value
    found = errors(refusal.value)
    assert any(e.get("field") == field and text in e.get("errorMessage", "") for e in found), found


def person_in(world: World, *scopes: tuple[str, str], email: str | None = None) -> dict[str, Any]:
    """A new person's representation: collection contact for each (groupement, SIREN), member
    of each adherent."""
    return {
        "email": email or new_email("personne"),
        "firstName": "Dominique",
        "lastName": "Essai",
        "enabled": True,
        "attributes": {"collecte": [f"{siren}/1" for _, siren in scopes]},
        "groups": [f"/{code}/{siren}" for code, siren in scopes],
    }


def known_in_sud_too(platform: Any, world: World) -> str:
    """A collection contact of a nord adherent who also holds a function for sud's SIREN, but
    is a member of the nord adherent only (a member of adherents of both groupements is out of
    both coordinators' reach: Keycloak's permissions refuse even reading them)."""
    return str(
        platform.admin.create_user(
            {
                **person_in(world, (world.nord.code, world.siren_nord)),
                "attributes": {"collecte": [f"{world.siren_nord}/1", f"{world.siren_sud}/1"]},
            }
        )
    )
