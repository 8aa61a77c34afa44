"""Data shared by the tests against the real Keycloak: fresh SIRENs of one test alone (so that
tests pass in any order) and the principal of a lot."""

from __future__ import annotations

import uuid
from typing import Any

from stdnum import luhn


def fresh_siren() -> str:
    """A SIREN nobody else uses, with its check digit (SIREN keys are Luhn keys)."""
    base = f"8{uuid.uuid4().int % 10**7:07d}"
    return base + luhn.calc_check_digit(base)


def principal_of(platform: Any, siren: str, lot: str) -> str | None:
    """The `principal.<lot>` written on the adherent group, read with the platform's admin."""
    groups = platform.admin.get_groups({"search": siren, "exact": "true"})
    for groupement in groups:
        for group in groupement.get("subGroups") or []:
            if group["name"] == siren:
                values = platform.admin.get_group(group["id"])["attributes"].get(f"principal.{lot}")
                return str(values[0]) if values else None
    raise AssertionError(f"no adherent {siren}")
