"""The throwaway platform of a test session (``Platform``) and the test set-up of adherent
groups on it, for the integration and end-to-end tests."""

from __future__ import annotations

from typing import TypeAlias

from keycloak.exceptions import KeycloakGetError

from collecte_kc.demo import ADHERENTS
from collecte_kc.sandbox import Sandbox
from portal.core.keycloak.gateway import KeycloakGateway

# The tests call it "platform": the whole throwaway platform of one test session.
Platform: TypeAlias = Sandbox


DEMO_NAMES = {adherent.siren: adherent.raison_sociale for adherent in ADHERENTS}


def ensure_adherents(platform: Platform, values: list[str]) -> None:
    """The adherent group of each SIREN of these `SIREN/lot` values, made in /GRP-ESSAI (lots 1,
    2 and those named) when no adherent has that SIREN (test set-up)."""
    gateway = KeycloakGateway.from_config(platform.portal_config)
    lots: dict[str, set[str]] = {}
    for value in values:
        siren, _, lot = value.partition("/")
        lots.setdefault(siren, {"1", "2"}).add(lot)
    for siren, named in sorted(lots.items()):
        if gateway.adherent(siren) is None:
            # a SIREN of the demo data gets its name there: tests that make it later, by
            # that name, find it as they expect whichever test ran first
            name = DEMO_NAMES.get(siren, "Commune d'Essai")
            make_adherent(platform, siren, name, tuple(sorted(named)))


def make_adherent(platform: Platform, siren: str, name: str, lots: tuple[str, ...]) -> None:
    """The adherent group `/GRP-ESSAI/<SIREN>` (and its groupement), unless it exists (test
    set-up, through the Admin API)."""
    admin = platform.admin
    try:
        groupement = admin.get_group_by_path("/GRP-ESSAI")
    except KeycloakGetError:
        admin.create_group({"name": "GRP-ESSAI"}, skip_exists=True)
        groupement = admin.get_group_by_path("/GRP-ESSAI")
    try:
        admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
    except KeycloakGetError:
        admin.create_group(
            {"name": siren, "attributes": {"raisonSociale": [name], "lots": list(lots)}},
            parent=groupement["id"],
            skip_exists=True,
        )


def join_adherents(platform: Platform, person_id: str, values: list[str]) -> None:
    """Put the person in the adherent group of each SIREN of these `SIREN/lot` values (test
    set-up, through the Admin API), where the group exists."""
    gateway = KeycloakGateway.from_config(platform.portal_config)
    for siren in sorted({value.partition("/")[0] for value in values}):
        found = gateway.adherent(siren)
        if found is not None:
            platform.admin.group_user_add(person_id, found.group_id)
