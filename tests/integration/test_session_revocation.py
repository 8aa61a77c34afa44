"""Revocation takes effect at once (issue 9): a person who loses their last collection function
or their staff role, and so may no longer sign in, loses their open Keycloak sessions with the
change, whoever makes it (the portal's service account, the administrator, a coordinator) —
Keycloak's `SessionRevocationListener`. Sessions are opened through the login form
(tests/helpers/signin.py); a refused refresh token is the proof the session is over for the
client."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from tests.helpers.coordination import groupement
from tests.helpers.platform import ensure_adherents, join_adherents
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import SigninClient, refresh, sign_in, signin_client

PASSWORD = "Essai-Revocation-2026!"  # test set-up only: the product never sets a password


@dataclass(frozen=True)
class Signed:
    id: str
    email: str
    tokens: dict[str, Any]


@pytest.fixture
def client(platform: Any) -> Iterator[SigninClient]:
    with signin_client(platform.admin) as made:
        yield made


@pytest.fixture
def service_account(platform: Any) -> KeycloakAdmin:
    """The Admin API as the portal calls it (its service account)."""
    config = platform.portal_config
    return KeycloakAdmin(
        connection=KeycloakOpenIDConnection(
            server_url=platform.keycloak_url,
            realm_name="collecte",
            client_id=config["ADMIN_CLIENT_ID"],
            client_secret_key=config["ADMIN_CLIENT_SECRET"],
            grant_type="client_credentials",
            timeout=10,
        )
    )


@pytest.fixture
def signed_in(platform: Any, client: SigninClient) -> Callable[..., Signed]:
    """A new person with these attributes and realm roles, member of the adherent group of each
    `collecte` value (the authority rule), signed in through the login form."""

    def make(attributes: dict[str, list[str]], roles: tuple[str, ...] = ()) -> Signed:
        admin = platform.admin
        ensure_adherents(platform, attributes.get("collecte", []))
        email = f"revocation-{uuid.uuid4().hex[:8]}@exemple-revocation.fr"
        user_id = str(
            admin.create_user(
                {
                    "email": email,
                    "firstName": "Sacha",
                    "lastName": "Révocation",
                    "enabled": True,
                    "attributes": attributes,
                }
            )
        )
        join_adherents(platform, user_id, attributes.get("collecte", []))
        if roles:
            admin.assign_realm_roles(user_id, [admin.get_realm_role(r) for r in roles])
        admin.set_user_password(user_id, PASSWORD, temporary=False)
        admin.update_user(user_id, {"requiredActions": [], "emailVerified": True})
        tokens = sign_in(platform.keycloak_url, client, email, PASSWORD)
        assert len(admin.get_sessions(user_id)) == 1
        return Signed(user_id, email, tokens)

    return make


def _without_collecte(admin: KeycloakAdmin, user_id: str, keep: list[str]) -> None:
    person = admin.get_user(user_id)
    attributes = {**(person.get("attributes") or {}), "collecte": keep}
    admin.update_user(user_id, {**person, "attributes": attributes})


def _ended(platform: Any, client: SigninClient, person: Signed) -> None:
    """No session left and the refresh token refused, checked until a short deadline (the end
    is part of the change's own transaction: it is expected at the first look)."""
    deadline = time.monotonic() + 5
    while platform.admin.get_sessions(person.id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert platform.admin.get_sessions(person.id) == []
    refused = refresh(platform.keycloak_url, client, person.tokens["refresh_token"])
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_grant"
    userinfo = requests.get(
        f"{platform.keycloak_url}/realms/collecte/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {person.tokens['access_token']}"},
        timeout=10,
    )
    assert userinfo.status_code == 401, userinfo.text


def test_losing_the_last_collection_function_ends_the_sessions(
    platform, client, signed_in, service_account
):
    siren = fresh_siren()
    person = signed_in({"collecte": [f"{siren}/1"]})
    _without_collecte(service_account, person.id, [])
    _ended(platform, client, person)


def test_keeping_another_collection_function_keeps_the_session(
    platform, client, signed_in, service_account
):
    siren = fresh_siren()
    person = signed_in({"collecte": [f"{siren}/1", f"{siren}/2"]})
    _without_collecte(service_account, person.id, [f"{siren}/2"])
    assert len(platform.admin.get_sessions(person.id)) == 1
    still = refresh(platform.keycloak_url, client, person.tokens["refresh_token"])
    assert still.status_code == 200, still.text
    # and the same change, once the last function goes, ends it (the test is not vacuous)
    _without_collecte(service_account, person.id, [])
    _ended(platform, client, person)


def test_losing_the_support_role_ends_the_sessions(platform, client, signed_in):
    person = signed_in({}, roles=("support",))
    admin = platform.admin
    admin.delete_realm_roles_of_user(person.id, [admin.get_realm_role("support")])
    _ended(platform, client, person)


def test_a_support_member_who_is_also_a_contact_keeps_the_session(platform, client, signed_in):
    person = signed_in({"collecte": [f"{fresh_siren()}/1"]}, roles=("support",))
    admin = platform.admin
    admin.delete_realm_roles_of_user(person.id, [admin.get_realm_role("support")])
    assert len(admin.get_sessions(person.id)) == 1


def test_a_coordinator_removing_a_members_last_function_ends_their_sessions(platform, client):
    """The coordinator's path (their own Admin API token) ends the sessions too."""
    code, siren = f"GRP-FIN-{uuid.uuid4().hex[:6].upper()}", fresh_siren()
    made = groupement(platform, code, siren)
    colleague = str(
        platform.admin.create_user(
            {
                "email": f"collegue-{uuid.uuid4().hex[:8]}@exemple-revocation.fr",
                "firstName": "Noa",
                "lastName": "Collègue",
                "enabled": True,
                "attributes": {"collecte": [f"{siren}/1"]},
                "groups": [f"/{code}/{siren}"],
            }
        )
    )
    email = platform.admin.get_user(colleague)["email"]
    platform.admin.set_user_password(colleague, PASSWORD, temporary=False)
    platform.admin.update_user(colleague, {"requiredActions": [], "emailVerified": True})
    person = Signed(colleague, email, sign_in(platform.keycloak_url, client, email, PASSWORD))
    _without_collecte(made.api, colleague, [])
    _ended(platform, client, person)


def test_leaving_the_adherents_group_ends_the_sessions(
    platform, client, signed_in, service_account, gateway
):
    """The authority rule, not the attribute: the `collecte` value stays, but the person is
    taken out of the adherent's group (support's « Retirer », a coordinator, the console), so
    the value gives nothing any more and the sessions end with the change."""
    siren = fresh_siren()
    person = signed_in({"collecte": [f"{siren}/1"]})
    found = gateway.adherent(siren)
    assert found is not None
    service_account.group_user_remove(person.id, found.group_id)
    assert service_account.get_user(person.id)["attributes"]["collecte"] == [f"{siren}/1"]
    _ended(platform, client, person)


def test_leaving_one_of_two_adherents_keeps_the_session(platform, client, signed_in, gateway):
    siren, other = fresh_siren(), fresh_siren()
    person = signed_in({"collecte": [f"{siren}/1", f"{other}/2"]})
    found = gateway.adherent(siren)
    assert found is not None
    platform.admin.group_user_remove(person.id, found.group_id)
    assert len(platform.admin.get_sessions(person.id)) == 1
    still = refresh(platform.keycloak_url, client, person.tokens["refresh_token"])
    assert still.status_code == 200, still.text


def test_a_lot_taken_from_the_adherent_ends_the_sessions_it_was_the_last_perimeter_of(
    platform, client, signed_in, gateway
):
    """An update of the adherent group checks its members: the person whose only perimeter was
    that lot loses their sessions; a member for another lot keeps theirs."""
    siren = fresh_siren()
    losing = signed_in({"collecte": [f"{siren}/1"]})
    keeping = signed_in({"collecte": [f"{siren}/2"]})
    found = gateway.adherent(siren)
    assert found is not None and set(found.lots) == {"1", "2"}
    group = platform.admin.get_group(found.group_id)
    attributes = {**group["attributes"], "lots": ["2"]}
    platform.admin.update_group(found.group_id, {**group, "attributes": attributes})

    _ended(platform, client, losing)
    assert len(platform.admin.get_sessions(keeping.id)) == 1
    still = refresh(platform.keycloak_url, client, keeping.tokens["refresh_token"])
    assert still.status_code == 200, still.text
