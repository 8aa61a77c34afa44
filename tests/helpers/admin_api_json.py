"""What the fake Admin API answers: users, adherent groups and request records as Keycloak
represents them, with the adherents and ids the unit tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from portal.core.domain import CollectionRequest, Scope

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


#: Ids Keycloak gives the realm `collecte`, the master realm and the portal admin client's
#: service-account user (admin events name callers by these ids).
REALM_ID = "r0000000-0000-4000-8000-00000000c011"
MASTER_REALM_ID = "r0000000-0000-4000-8000-0000000ma571"
PORTAL_ACCOUNT_ID = "p0000000-0000-4000-8000-00000000portal"
