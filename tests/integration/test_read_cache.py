"""The pages' read cache against the real Keycloak (issue 14): a page read again makes no Admin
API call, and whatever changes in the realm — by the portal, by another client, by the portal's
service account from another process — is seen by the very next page, because Keycloak tells
the portal (``ChangeNotifier``) before it answers the request that made the change.

The portal runs in-process (Flask test client) on the session's Keycloak, sharing the session
store of the sandbox's portal, which Keycloak's notifications reach at ``PORTAL_URL``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from portal.core.domain import Change, Function, Scope
from portal.core.keycloak.gateway import KeycloakGateway
from tests.helpers.read_cache import generation
from tests.helpers.realm_data import fresh_siren
from tests.helpers.relying_party import poll
from tests.helpers.signin import SignInRefused, signin_client
from tests.helpers.signin import sign_in as keycloak_sign_in
from tests.integration.test_page_calls import (
    Calls,
    calls,
    counted,
    member_page,
    portal,
    sign_in,
    support_person,
)

# the fixtures, imported to be used here (the portal with its cache on, sharing the store where
# Keycloak's notifications land; a member signed in with their SIREN/lot page read once)
__all__ = ["calls", "member_page", "portal"]

#: The diagnosis' row for a lock (portal.core.services.diagnostic) and its state.
LOCK_STATE = re.compile(r"Compte verrouillé temporairement[^<]*</th>\s*<td class=\"etat\">(\w+)<")


def locked(portal: FlaskClient, url: str) -> bool:
    match = LOCK_STATE.search(portal.get(url).get_data(as_text=True))
    assert match is not None, "no lock row on the diagnosis"
    return match.group(1) == "Oui"


def test_a_page_read_again_asks_keycloak_nothing(
    portal: FlaskClient, calls: Calls, member_page: tuple[str, str]
) -> None:
    _, url = member_page
    siren = url.split("/")[2]
    for page in ("/espace/", url, f"/espace/{siren}/1/contacts/nouveau"):
        counted(portal, calls, page)  # first visit: read and kept
        assert counted(portal, calls, page) == (0, 0), page


def test_every_change_by_another_client_is_seen_by_the_next_page(
    platform: Any, portal: FlaskClient, member_page: tuple[str, str]
) -> None:
    """Ten times in a row, the person taken out of their adherent's group then put back by the
    platform's administrator (another client, master realm) shows on the very next page: the
    notification is in before Keycloak answers the change, every time."""
    person_id, url = member_page
    siren = url.split("/")[2]
    group = platform.admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
    for _ in range(10):
        platform.admin.group_user_remove(person_id, group["id"])
        assert portal.get(url).status_code == 404
        platform.admin.group_user_add(person_id, group["id"])
        assert portal.get(url).status_code == 200


def test_changes_by_the_portal_account_elsewhere_are_told(
    platform: Any, portal: FlaskClient, gateway: KeycloakGateway, member_page: tuple[str, str]
) -> None:
    """The portal's service account used by the tooling (no mark of its own) is told about;
    a portal process that marks its writes is not called back, and marks them itself."""
    person_id, url = member_page
    scope = Scope.parse(url.removeprefix("/espace/").rstrip("/"))
    assert scope is not None
    before = generation(platform.portal_config).current()
    gateway.revoke_collection(person_id, scope, Change.now("outil@essai.fr", "retrait"))
    assert generation(platform.portal_config).current() != before
    assert portal.get(url).status_code == 404

    marks: list[int] = []
    marking = KeycloakGateway.from_config(platform.portal_config, on_write=lambda: marks.append(1))
    before = generation(platform.portal_config).current()
    marking.update_contact(
        person_id, scope, {Function.TECHNIQUE: True}, Change.now("portail@essai.fr", "ajout")
    )
    assert marks, "the marking gateway was not told of its own write"
    assert generation(platform.portal_config).current() == before, (
        "Keycloak called back a portal that marks its writes"
    )


def test_a_removed_coordinator_loses_the_follow_up_at_the_next_request(
    platform: Any, portal: FlaskClient, create_person: Callable[..., str]
) -> None:
    coordinator = create_person()
    role = platform.admin.get_realm_role("coordonnateur")
    platform.admin.assign_realm_roles(coordinator, [role])
    sign_in(portal, platform, coordinator)
    assert portal.get("/coordination/").status_code == 200
    assert portal.get("/coordination/").status_code == 200  # served from the cache
    platform.admin.delete_realm_roles_of_user(coordinator, [role])
    assert portal.get("/coordination/").status_code == 403


def test_only_a_token_signed_by_the_realm_is_a_change(
    platform: Any, member_page: tuple[str, str]
) -> None:
    before = generation(platform.portal_config).current()
    endpoint = f"{platform.portal_url}/auth/backchannel-changes"
    for token in ("", "pas-un-jeton", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."):
        response = requests.post(endpoint, data={"changes_token": token}, timeout=5)
        assert response.status_code == 400
    assert generation(platform.portal_config).current() == before


def test_a_lock_shows_at_the_next_diagnosis_and_so_does_its_end(
    platform: Any, portal: FlaskClient, calls: Calls, create_person: Callable[..., str]
) -> None:
    """The diagnosis is kept like the pages: Keycloak tells the portal when wrong passwords lock
    someone (its USER_DISABLED_BY_TEMPORARY_LOCKOUT event, once the lock is written), and the
    very next diagnosis shows the lock; while locked, it is read at each request, so the end of
    the lock — here lifted by an administrator, as time lifts it — shows at once too."""
    member = create_person(collecte=[f"{fresh_siren()}/1"])
    email = platform.admin.get_user(member)["email"]
    sign_in(portal, platform, support_person(platform, create_person))
    url = f"/support/diagnostic?email={email}"
    assert not locked(portal, url)
    assert counted(portal, calls, url) == (0, 0)  # kept: nothing changed

    with signin_client(platform.admin) as client:
        before = generation(platform.portal_config).current()
        for attempt in range(2):  # two failures within the quick-login window lock at once
            with pytest.raises(SignInRefused):
                keycloak_sign_in(platform.keycloak_url, client, email, f"mauvais-{attempt}")
        poll(
            lambda: generation(platform.portal_config).current() != before or None,
            "Keycloak told the portal of the lock",
        )

    assert locked(portal, url)
    assert counted(portal, calls, url)[0] > 0  # a lock ends by time: never served from memory
    platform.admin.connection.raw_delete(
        f"admin/realms/collecte/attack-detection/brute-force/users/{member}"
    )
    assert not locked(portal, url)
