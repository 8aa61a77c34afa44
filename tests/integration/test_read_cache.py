"""The pages' read cache against the real Keycloak (issue 14): a page read again makes no Admin
API call, and whatever changes in the realm — by the portal, by another client, by the portal's
service account from another process — is seen by the very next page, because Keycloak tells
the portal (``ChangeNotifier``) before it answers the request that made the change.

The portal runs in-process (Flask test client) on the session's Keycloak, sharing the session
store of the sandbox's portal, which Keycloak's notifications reach at ``PORTAL_URL``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from portal import create_app
from portal.core.domain import Change, Function, Scope
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.keycloak.read_cache import GENERATION_KEY
from tests.helpers.realm_data import fresh_siren
from tests.integration.test_page_calls import Calls, calls, counted, sign_in

__all__ = ["calls"]  # the fixture, imported to be used here


@pytest.fixture
def cached_portal(platform: Any) -> Iterator[FlaskClient]:
    """The portal with its read cache on (the default), its generation where Keycloak's
    notifications land."""
    app = create_app({**platform.portal_config, "TESTING": True, "PAGE_CACHE_SECONDS": 60})
    with app.test_client() as client:
        yield client


def generation(platform: Any) -> object:
    from cachelib import FileSystemCache

    return FileSystemCache(platform.portal_config["SESSION_FILE_DIR"]).get(GENERATION_KEY)


@pytest.fixture
def member(
    platform: Any, cached_portal: FlaskClient, create_person: Callable[..., str]
) -> tuple[str, str]:
    """A collection contact signed in, their SIREN/lot page read once; (id, URL)."""
    siren = fresh_siren()
    person_id = create_person(collecte=[f"{siren}/1"])
    sign_in(cached_portal, platform, person_id)
    url = f"/espace/{siren}/1/"
    assert cached_portal.get(url).status_code == 200
    return person_id, url


def test_a_page_read_again_asks_keycloak_nothing(
    cached_portal: FlaskClient, calls: Calls, member: tuple[str, str]
) -> None:
    _, url = member
    siren = url.split("/")[2]
    for page in ("/espace/", url, f"/espace/{siren}/1/contacts/nouveau"):
        counted(cached_portal, calls, page)  # first visit: read and kept
        assert counted(cached_portal, calls, page) == (0, 0), page


def test_every_change_by_another_client_is_seen_by_the_next_page(
    platform: Any, cached_portal: FlaskClient, member: tuple[str, str]
) -> None:
    """Ten times in a row, the person taken out of their adherent's group then put back by the
    platform's administrator (another client, master realm) shows on the very next page: the
    notification is in before Keycloak answers the change, every time."""
    person_id, url = member
    siren = url.split("/")[2]
    group = platform.admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
    for _ in range(10):
        platform.admin.group_user_remove(person_id, group["id"])
        assert cached_portal.get(url).status_code == 404
        platform.admin.group_user_add(person_id, group["id"])
        assert cached_portal.get(url).status_code == 200


def test_changes_by_the_portal_account_elsewhere_are_told(
    platform: Any, cached_portal: FlaskClient, gateway: KeycloakGateway, member: tuple[str, str]
) -> None:
    """The portal's service account used by the tooling (no mark of its own) is told about;
    a portal process that marks its writes is not called back, and marks them itself."""
    person_id, url = member
    scope = Scope.parse(url.removeprefix("/espace/").rstrip("/"))
    assert scope is not None
    before = generation(platform)
    gateway.revoke_collection(person_id, scope, Change.now("outil@essai.fr", "retrait"))
    assert generation(platform) != before
    assert cached_portal.get(url).status_code == 404

    marks: list[int] = []
    marking = KeycloakGateway.from_config(platform.portal_config, on_write=lambda: marks.append(1))
    before = generation(platform)
    marking.update_contact(
        person_id, scope, {Function.TECHNIQUE: True}, Change.now("portail@essai.fr", "ajout")
    )
    assert marks, "the marking gateway was not told of its own write"
    assert generation(platform) == before, "Keycloak called back a portal that marks its writes"


def test_a_removed_coordinator_loses_the_follow_up_at_the_next_request(
    platform: Any, cached_portal: FlaskClient, create_person: Callable[..., str]
) -> None:
    coordinator = create_person()
    role = platform.admin.get_realm_role("coordonnateur")
    platform.admin.assign_realm_roles(coordinator, [role])
    sign_in(cached_portal, platform, coordinator)
    assert cached_portal.get("/coordination/").status_code == 200
    assert cached_portal.get("/coordination/").status_code == 200  # served from the cache
    platform.admin.delete_realm_roles_of_user(coordinator, [role])
    assert cached_portal.get("/coordination/").status_code == 403


def test_only_a_token_signed_by_the_realm_is_a_change(
    platform: Any, member: tuple[str, str]
) -> None:
    before = generation(platform)
    endpoint = f"{platform.portal_url}/auth/backchannel-changes"
    for token in ("", "pas-un-jeton", "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."):
        response = requests.post(endpoint, data={"changes_token": token}, timeout=5)
        assert response.status_code == 400
    assert generation(platform) == before
