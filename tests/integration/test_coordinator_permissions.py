"""Coordinators in the admin console: their groupement only (fine-grained admin permissions v2),
and passwords chosen by the user only (policy collecteMotDePasseParUtilisateur).

Two groupements, two coordinators provisioned by `collecte_kc.coordinators`
(tests/helpers/coordinator_permissions.py); every check calls the Admin API with a real
coordinator's access token, obtained as the coordinator does: Keycloak's login form and the
authorization code (tests/helpers/signin.py), never the password grant. The principal collection
contact and the permissions kept up to date: test_coordinator_principals.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from keycloak.exceptions import KeycloakError

from portal.core.keycloak.schema import INVITATION_ACTIONS
from tests.helpers.coordination import (
    PASSWORD,
    Groupement,
    add_colleague,
    groupement,
    new_email,
    portal_admin,
)
from tests.helpers.coordinator_permissions import (
    NORD,
    SIREN_NORD,
    SIREN_NORD_2,
    SIREN_SUD,
    SUD,
    forbidden,
)
from tests.helpers.coordinator_permissions import nord as nord
from tests.helpers.coordinator_permissions import sud as sud
from tests.helpers.coordinator_permissions import world as world
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import admin_api_as

# `name as name`: the helper's pytest fixtures, requested by name by the tests below (an
# explicit re-export, not an unused import)


def test_the_token_is_a_plain_realm_user_signed_in_through_the_login_form(platform, nord):
    assert nord.api.connection.token["session_state"]  # a browser-flow session, no password grant
    assert not any(c["directAccessGrantsEnabled"] for c in platform.admin.get_clients())
    roles = {
        r["name"] for r in platform.admin.get_composite_realm_roles_of_user(nord.coordinator_id)
    }
    assert "coordonnateur" in roles and "realm-admin" not in roles


def test_a_coordinators_powers_need_the_role_and_the_marker_group_together(platform):
    """Attack: a coordinator whose role `coordonnateur` is removed stays in his marker group.
    Without a collection function he may not even sign in; given one (he may then sign in as a
    member), his Admin API token must no longer reach his groupement's members."""
    code, siren = f"GRP-ROLE-{uuid.uuid4().hex[:6].upper()}", fresh_siren()
    made = groupement(platform, code, siren)
    assert made.member_id in {m["id"] for m in made.api.get_group_members(made.adherent_id)}
    admin = platform.admin
    person = admin.get_user(made.coordinator_id)
    attributes = {"collecte": [f"{siren}/1"], "revision": person["attributes"]["revision"]}
    admin.update_user(made.coordinator_id, {**person, "attributes": attributes})
    admin.group_user_add(made.coordinator_id, made.adherent_id)  # a member, as the function needs
    admin.delete_realm_roles_of_user(made.coordinator_id, [admin.get_realm_role("coordonnateur")])
    marker = admin.get_group_by_path(f"/coordonnateurs/{code}")
    assert marker["id"] in {g["id"] for g in admin.get_user_groups(made.coordinator_id)}

    # a new sign-in (the password set by the groupement's set-up), as the former coordinator
    former = admin_api_as(platform.admin, platform.keycloak_url, made.coordinator_email, PASSWORD)
    forbidden(lambda: former.get_group_members(made.adherent_id))
    assert made.member_id not in {u["id"] for u in former.get_users({"max": 1000})}
    forbidden(lambda: former.get_user(made.member_id))


# --- allowed ---------------------------------------------------------------------------------


def test_coordinator_lists_and_searches_their_members_only(platform, nord, sud):
    listed = {u["id"] for u in nord.api.get_users({"max": 1000})}
    assert nord.member_id in listed and sud.member_id not in listed
    found = nord.api.get_users({"search": "membre-", "max": 1000})
    assert nord.member_id in {u["id"] for u in found}
    assert sud.member_id not in {u["id"] for u in found}
    assert (
        nord.api.get_users({"email": nord.member_email, "exact": True})[0]["id"] == nord.member_id
    )
    # other tests of the module add colleagues to this adherent: the coordinator sees exactly
    # its members as they stand (the administrator's view), the principal among them
    members = {m["id"] for m in nord.api.get_group_members(nord.adherent_id)}
    assert nord.member_id in members
    assert members == {m["id"] for m in platform.admin.get_group_members(nord.adherent_id)}
    assert nord.api.get_user(nord.member_id)["attributes"]["collecte"] == [f"{SIREN_NORD}/1"]


def test_coordinator_creates_a_member_in_their_groupement_edits_and_invites_them(platform, nord):
    email = new_email("nouveau")
    created = nord.api.create_user(
        {
            "email": email,
            "firstName": "Léa",
            "lastName": "Durand",
            "enabled": True,
            "attributes": {"collecte": [f"{SIREN_NORD}/1"], "telephoneMobile": ["+33612345678"]},
            "groups": [f"/{NORD}/{SIREN_NORD}"],
        }
    )
    seen = platform.admin.get_user(created)
    assert seen["attributes"]["collecte"] == [f"{SIREN_NORD}/1"]
    assert [g["path"] for g in platform.admin.get_user_groups(created)] == [f"/{NORD}/{SIREN_NORD}"]

    person = nord.api.get_user(created)
    attributes = {
        **person["attributes"],
        "collecte": [f"{SIREN_NORD}/1", f"{SIREN_NORD_2}/1"],
        "technique": [f"{SIREN_NORD}/1"],
        "telephoneFixe": ["+33299000001"],
    }
    nord.api.update_user(created, {**person, "attributes": attributes, "lastName": "Durand-Roy"})
    nord.api.group_user_add(
        created, platform.admin.get_group_by_path(f"/{NORD}/{SIREN_NORD_2}")["id"]
    )
    after = platform.admin.get_user(created)
    assert after["attributes"]["technique"] == [f"{SIREN_NORD}/1"]
    assert sorted(after["attributes"]["collecte"]) == [f"{SIREN_NORD}/1", f"{SIREN_NORD_2}/1"]
    assert after["lastName"] == "Durand-Roy"
    assert {g["path"] for g in platform.admin.get_user_groups(created)} == {
        f"/{NORD}/{SIREN_NORD}",
        f"/{NORD}/{SIREN_NORD_2}",
    }

    nord.api.send_update_account(user_id=created, payload=INVITATION_ACTIONS)
    platform.mail.wait_for(email)


# --- forbidden -------------------------------------------------------------------------------


def test_coordinator_cannot_see_or_touch_another_groupements_members(platform, nord, sud):
    forbidden(lambda: nord.api.get_user(sud.member_id))
    assert nord.api.get_users({"email": sud.member_email, "exact": True}) == []
    forbidden(lambda: nord.api.get_group_members(sud.adherent_id))
    person = platform.admin.get_user(sud.member_id)
    forbidden(lambda: nord.api.update_user(sud.member_id, {**person, "lastName": "Pirate"}))
    forbidden(lambda: nord.api.send_update_account(sud.member_id, INVITATION_ACTIONS))
    forbidden(lambda: nord.api.delete_user(sud.member_id))
    # nor pull them into their own groupement, nor create people in another one
    forbidden(lambda: nord.api.group_user_add(sud.member_id, nord.adherent_id))
    forbidden(
        lambda: nord.api.create_user(
            {
                "email": new_email("intrus"),
                "firstName": "I",
                "lastName": "Ntrus",
                "enabled": True,
                "groups": [f"/{SUD}/{SIREN_SUD}"],
            }
        )
    )
    # nor anyone outside any groupement
    forbidden(
        lambda: nord.api.create_user(
            {"email": new_email("hors"), "firstName": "H", "lastName": "Ors", "enabled": True}
        )
    )
    # and the other coordinator the same way round
    forbidden(lambda: sud.api.get_user(nord.member_id))
    assert platform.admin.get_user(sud.member_id)["lastName"] == "Membre"


def test_coordinator_cannot_reset_their_own_or_another_groupements_passwords(nord, sud):
    forbidden(lambda: nord.api.set_user_password(sud.member_id, "Un-autre-mot-2025", False))
    forbidden(lambda: nord.api.set_user_password(nord.coordinator_id, "Un-autre-mot-2025", False))


def test_coordinator_cannot_give_roles_to_others_or_themselves(platform, nord):
    role = platform.admin.get_realm_role("coordonnateur")
    forbidden(lambda: nord.api.assign_realm_roles(nord.member_id, [role]))
    forbidden(lambda: nord.api.assign_realm_roles(nord.coordinator_id, [role]))
    realm_management = platform.admin.get_client_id("realm-management")
    manage_users = platform.admin.get_client_role(realm_management, "manage-users")
    forbidden(
        lambda: nord.api.assign_client_role(nord.coordinator_id, realm_management, [manage_users])
    )
    # nor take a place in another groupement's coordinators, nor in their own groupement
    marker_sud = platform.admin.get_group_by_path(f"/coordonnateurs/{SUD}")
    forbidden(lambda: nord.api.group_user_add(nord.coordinator_id, marker_sud["id"]))
    forbidden(lambda: nord.api.group_user_add(nord.coordinator_id, nord.adherent_id))
    held = {r["name"] for r in platform.admin.get_realm_roles_of_user(nord.member_id)}
    assert "coordonnateur" not in held


# --- passwords: chosen by the user only (policy collecteMotDePasseParUtilisateur) -------------

REFUSAL = "Seul l’utilisateur choisit son mot de passe"


def refused_password(call: Callable[[], Any]) -> None:
    """The password policy's refusal: 400 with the French sentence (not a 403: Keycloak's
    permissions allowed the call, the policy refused the password)."""
    with pytest.raises(KeycloakError) as refused:
        call()
    assert refused.value.response_code == 400, refused.value
    assert REFUSAL in refused.value.response_body.decode("utf-8"), refused.value


def _passwords(platform: Any, user_id: str) -> list[Any]:
    return [c for c in platform.admin.get_credentials(user_id) if c["type"] == "password"]


@pytest.fixture
def colleague(platform: Any, nord: Groupement) -> str:
    """A member of the nord adherent who is not its principal (a principal is out of a
    coordinator's reach altogether): here the password policy is what refuses."""
    return add_colleague(platform.admin, NORD, SIREN_NORD)


def test_coordinator_cannot_reset_a_members_password(platform, nord, colleague):
    refused_password(lambda: nord.api.set_user_password(colleague, "Un-autre-mot-2025", False))
    assert _passwords(platform, colleague) == []


def test_coordinator_cannot_set_a_password_through_the_user_representation(
    platform, nord, colleague
):
    person = nord.api.get_user(colleague)
    password = {"type": "password", "value": "Pose-par-le-coordo-2025", "temporary": False}
    refused_password(lambda: nord.api.update_user(colleague, {**person, "credentials": [password]}))
    assert _passwords(platform, colleague) == []
    # nor when creating someone in their groupement: and nobody is created
    email = new_email("avec-mot-de-passe")
    refused_password(
        lambda: nord.api.create_user(
            {
                "email": email,
                "firstName": "P",
                "lastName": "Asse",
                "enabled": True,
                "groups": [f"/{NORD}/{SIREN_NORD}"],
                "credentials": [password],
            }
        )
    )
    assert platform.admin.get_users({"email": email, "exact": True}) == []


def test_user_managers_may_still_set_passwords(platform, nord):
    """The master administrator (the provisioning) and the realm's own manage-users holders:
    the fixtures themselves rely on it; the product never does it."""
    email = new_email("operateur")
    user_id = platform.admin.create_user(
        {"email": email, "firstName": "O", "lastName": "Pérateur", "enabled": True}
    )
    platform.admin.set_user_password(user_id, "Pose-par-l-operateur-2025", temporary=False)
    portal_admin(platform).set_user_password(user_id, "Pose-par-le-portail-2025", temporary=False)
    assert len(_passwords(platform, user_id)) == 1
    platform.admin.delete_user(user_id)


def test_coordinator_cannot_set_an_already_hashed_password(platform, nord, colleague):
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha512", b"Hache-par-le-coordo-2025", salt, 210_000, 64)
    hashed = {
        "type": "password",
        "secretData": json.dumps(
            {
                "value": base64.b64encode(digest).decode(),
                "salt": base64.b64encode(salt).decode(),
                "additionalParameters": {},
            }
        ),
        "credentialData": json.dumps(
            {"hashIterations": 210_000, "algorithm": "pbkdf2-sha512", "additionalParameters": {}}
        ),
    }
    person = nord.api.get_user(colleague)
    # Keycloak stores such a hash without its password policy: our credential provider refuses
    refused_password(lambda: nord.api.update_user(colleague, {**person, "credentials": [hashed]}))
    assert _passwords(platform, colleague) == []
    # while the provisioning may still import one (the realm's user managers)
    platform.admin.update_user(colleague, {**person, "credentials": [hashed]})
    assert len(_passwords(platform, colleague)) == 1
