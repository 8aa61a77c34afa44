"""Suivi des activations against the real Keycloak: a groupement set up by
`collecte_kc.coordinators`, adherents and collection contacts in known states; the gateway and
the service must count exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collecte_kc.coordinators import Coordinator, add_groupement
from portal.core.domain import Change
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.follow_up import State, follow_up
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import sign_in, signin_client

CODE = "GRP-SUIVI"
SIREN_1, SIREN_2 = "213591001", "213591019"
PASSWORD = "Suivi-Essai-2026!"  # test shortcut: the product never sets a password


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@exemple-suivi.fr"


@pytest.fixture(scope="module")
def groupement(platform: Any) -> dict[str, str]:
    """GRP-SUIVI and two adherents (lots 1 and 2); returns the people by role in the test."""
    admin = platform.admin
    outcome = add_groupement(
        admin, CODE, "Groupement du suivi", Coordinator(_email("coord"), "Claire", "Suivi")
    )
    for siren in (SIREN_1, SIREN_2):
        admin.create_group(
            {
                "name": siren,
                "attributes": {"raisonSociale": [f"Commune {siren}"], "lots": ["1", "2"]},
            },
            parent=outcome.groupement_id,
            skip_exists=True,
        )
    return {"coordinator": outcome.coordinator_id}


def _person(
    platform: Any, collecte: list[str], technique: list[str] | None = None, code: str = CODE
) -> str:
    sirens = sorted({value.split("/")[0] for value in collecte + (technique or [])})
    attributes: dict[str, list[str]] = {"collecte": collecte}
    if technique:
        attributes["technique"] = technique
    return str(
        platform.admin.create_user(
            {
                "email": _email("contact"),
                "firstName": "Camille",
                "lastName": "Suivi",
                "enabled": True,
                "attributes": attributes,
                "groups": [f"/{code}/{siren}" for siren in sirens],
            }
        )
    )


def _invite(gateway: KeycloakGateway, platform: Any, person_id: str, days_ago: int = 0) -> None:
    change = Change.now("support@collecte.test", "invitation")
    at = change.at - timedelta(days=days_ago)
    gateway.invite(person_id, f"{platform.portal_url}/connexion", Change(change.by, at, "x"))


def test_counts_are_exact(
    platform: Any, gateway: KeycloakGateway, groupement: dict[str, str]
) -> None:
    invited = _person(platform, [f"{SIREN_1}/1", f"{SIREN_1}/2"])
    _invite(gateway, platform, invited)
    expired = _person(platform, [f"{SIREN_1}/1"])
    _invite(gateway, platform, expired, days_ago=10)
    never = _person(platform, [f"{SIREN_2}/1"])
    technical = str(
        platform.admin.create_user(
            {
                "email": _email("technique"),
                "firstName": "Jean",
                "lastName": "Technique",
                "enabled": True,
                "attributes": {"technique": [f"{SIREN_2}/1"]},
                "groups": [f"/{CODE}/{SIREN_2}"],
            }
        )
    )
    # Activated through the test shortcut (password set, actions cleared), after an invitation.
    activated = _person(platform, [f"{SIREN_2}/1"])
    _invite(gateway, platform, activated)
    platform.admin.set_user_password(activated, PASSWORD, temporary=False)
    platform.admin.update_user(activated, {"requiredActions": [], "emailVerified": True})
    # One real sign-in through Keycloak's login form, recorded as a LOGIN event.
    email = platform.admin.get_user(activated)["email"]
    with signin_client(platform.admin) as client:
        sign_in(platform.keycloak_url, client, email, PASSWORD)

    suivi = follow_up(gateway, CODE)

    assert suivi is not None
    assert [a.siren for a in suivi.adherents] == [SIREN_1, SIREN_2]
    assert suivi.lots == ("1", "2")
    states = {(line.person.id, line.lot): line.state for line in suivi.lines}
    assert states == {
        (invited, "1"): State.INVITED,
        (invited, "2"): State.INVITED,
        (expired, "1"): State.EXPIRED,
        (never, "1"): State.NOT_INVITED,
        (activated, "1"): State.ACTIVATED,
    }
    assert technical not in {line.person.id for line in suivi.lines}
    lot1, lot2 = suivi.summaries()
    assert (lot1.contacts, lot1.invited, lot1.expired, lot1.not_invited, lot1.activated) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert lot1.percent_activated == 25
    assert (lot2.contacts, lot2.invited, lot2.activated) == (1, 1, 0)
    assert [a.siren for a in suivi.without_contact("2")] == [SIREN_2]
    line = next(line for line in suivi.lines if line.person.id == activated)
    assert line.account.activated_at is not None
    assert line.account.last_login is not None
    assert datetime.now(UTC) - line.account.last_login < timedelta(minutes=5)
    # The page's batched read (collecte-activations) says what the per-person reads say.
    assert line.account.activated_at == gateway.activated_at(activated)
    assert line.account.last_login == gateway.last_login(activated)
    assert {p.id for p in suivi.to_reinvite()} == {invited, expired, never}
    # The coordinator is no collection contact of the groupement.
    assert groupement["coordinator"] not in {line.person.id for line in suivi.lines}


def test_unknown_groupement(gateway: KeycloakGateway, groupement: dict[str, str]) -> None:
    assert gateway.groupement_adherents("GRP-INCONNU") is None
    assert follow_up(gateway, "GRP-INCONNU") is None


def test_members_are_read_page_by_page(platform: Any, gateway: KeycloakGateway) -> None:
    """More members than one page (100): nobody is missed. In a groupement of its own: in
    GRP-SUIVI this adherent and its 105 contacts would change the exact counts of
    test_counts_are_exact whenever this test ran first."""
    code, siren = f"GRP-PAGES-{uuid.uuid4().hex[:6].upper()}", fresh_siren()
    admin = platform.admin
    outcome = add_groupement(
        admin, code, "Groupement des pages", Coordinator(_email("coord"), "Claire", "Pages")
    )
    admin.create_group(
        {"name": siren, "attributes": {"raisonSociale": ["Grande commune"], "lots": ["1"]}},
        parent=outcome.groupement_id,
        skip_exists=True,
    )
    created = {_person(platform, [f"{siren}/1"], code=code) for _ in range(105)}
    adherent = next(a for a in gateway.groupement_adherents(code) or [] if a.siren == siren)
    assert {person.id for person in gateway.adherent_members(adherent)} == created
