"""The follow-up's one read per groupement (keycloak/providers ActivationsResource,
``collecte-activations``) answers only whom Keycloak lets see the groupement and its members: a
coordinator reads their own groupement, not another one; a collection contact reads nothing.
Real Keycloak, real tokens from the login form."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from keycloak import KeycloakAdmin

from tests.helpers.coordination import PASSWORD, Groupement, activate, groupement
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import admin_api_as, shared_client, sign_in


def _read(api: KeycloakAdmin, group_id: str) -> Any:
    return api.connection.raw_get(f"admin/realms/collecte/collecte-activations/groups/{group_id}")


# Per test: one test activates its member, which another reads as not yet activated.
@pytest.fixture
def pair(platform: Any) -> tuple[Groupement, Groupement]:
    tag = uuid.uuid4().hex[:6].upper()
    first, second = (
        groupement(platform, f"GRP-ACT-{name}-{tag}", fresh_siren()) for name in ("A", "B")
    )
    return first, second


def _group_id(platform: Any, code: str) -> str:
    return str(platform.admin.get_group_by_path(f"/{code}")["id"])


def test_a_coordinator_reads_their_own_groupement_only(platform: Any, pair: Any) -> None:
    own, other = pair
    read = _read(own.api, _group_id(platform, own.code))
    assert read.status_code == 200, read.text
    members = read.json()[own.adherent_id]
    assert [entry["user"]["id"] for entry in members] == [own.member_id]
    assert "passwordCreated" not in members[0]  # no password chosen: null, left out
    refused = _read(own.api, _group_id(platform, other.code))
    assert refused.status_code == 403, refused.text
    assert own.member_email not in refused.text and other.member_email not in refused.text


def test_a_collection_contact_reads_nothing(platform: Any, pair: Any) -> None:
    own, _ = pair
    activate(platform, own.member_id)
    # the first sign-in accepts the CGU, as the person would
    client = shared_client(platform.admin, platform.keycloak_url)
    sign_in(platform.keycloak_url, client, own.member_email, PASSWORD, accept_terms=True)
    member_api = admin_api_as(platform.admin, platform.keycloak_url, own.member_email, PASSWORD)
    refused = _read(member_api, _group_id(platform, own.code))
    assert refused.status_code == 403, refused.text


def test_an_unknown_group_is_not_found(platform: Any) -> None:
    assert _read(platform.admin, str(uuid.uuid4())).status_code == 404
