"""Coordinators and the principal collection contact: out of their reach, while the other
members stay theirs; the permissions kept up to date by Keycloak's listener as the portal writes,
by `synchroniser` for a principal left without protection, and unchanged by a second
provisioning.

Two groupements, two coordinators provisioned by `collecte_kc.coordinators`
(tests/helpers/coordinator_permissions.py); every check calls the Admin API with a real
coordinator's access token, obtained as the coordinator does: Keycloak's login form and the
authorization code (tests/helpers/signin.py), never the password grant. What else a coordinator
may or may not do: test_coordinator_permissions.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from keycloak import KeycloakAdmin

from collecte_kc.coordinators import Coordinator, add_groupement, synchronise
from portal.core.domain import Change
from portal.core.keycloak.admin_permissions import (
    ADMIN_PERMISSIONS_CLIENT,
    find_by_name,
    policy_state,
)
from portal.core.keycloak.coordination import protect_all_principals, protect_principal
from portal.core.services.bulk import check, dry_run, read_table
from tests.helpers.coordination import adherent, coordinator_api, member, new_email
from tests.helpers.coordinator_permissions import NORD, SIREN_NORD, SIREN_NORD_2, forbidden
from tests.helpers.coordinator_permissions import nord as nord
from tests.helpers.coordinator_permissions import sud as sud
from tests.helpers.coordinator_permissions import world as world
from tests.helpers.realm_data import fresh_siren

# `name as name`: the helper's pytest fixtures, requested by name by the tests below (an
# explicit re-export, not an unused import)

SIREN_NORD_LIVE = "213590052"  # an adherent the portal imports (test of the live permissions)
IMPORT_HEADER = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"


def _permissions_snapshot(admin: KeycloakAdmin) -> list[Any]:
    client_uuid = admin.get_client_id(ADMIN_PERMISSIONS_CLIENT)
    path = f"admin/realms/collecte/clients/{client_uuid}/authz/resource-server/policy"
    policies = admin.connection.raw_get(path, first=0, max=1000).json()
    return sorted(
        (p["name"], p["type"], repr(policy_state(admin, client_uuid, p))) for p in policies
    )


# --- the principal: out of the coordinator's reach -------------------------------------------


def test_coordinator_cannot_change_a_principal_collection_contact(platform, nord):
    group = platform.admin.get_group(nord.adherent_id)
    changed = {**group, "attributes": {**group["attributes"], "principal.1": [nord.coordinator_id]}}
    forbidden(lambda: nord.api.update_group(nord.adherent_id, changed))
    groupement = platform.admin.get_group_by_path(f"/{NORD}")
    forbidden(lambda: nord.api.update_group(groupement["id"], {**groupement, "name": "GRP-X"}))
    forbidden(lambda: nord.api.delete_group(nord.adherent_id))
    assert platform.admin.get_group(nord.adherent_id)["attributes"]["principal.1"] == [
        nord.member_id
    ]


# --- known limits of Keycloak 26.7.3's permissions (see README) --------------------------


def test_coordinator_cannot_replace_the_principal_person(platform, nord):
    person = nord.api.get_user(nord.member_id)  # still visible to them
    forbidden(lambda: nord.api.update_user(nord.member_id, {**person, "email": new_email("autre")}))
    forbidden(lambda: nord.api.update_user(nord.member_id, {**person, "lastName": "Autre"}))
    forbidden(lambda: nord.api.delete_user(nord.member_id))
    forbidden(lambda: nord.api.group_user_remove(nord.member_id, nord.adherent_id))
    elsewhere = platform.admin.get_group_by_path(f"/{NORD}/{SIREN_NORD_2}")["id"]
    forbidden(lambda: nord.api.group_user_add(nord.member_id, elsewhere))
    after = platform.admin.get_user(nord.member_id)
    assert (after["email"], after["lastName"]) == (nord.member_email, "Membre")
    # still listed among the members of their groupement
    assert nord.member_id in {m["id"] for m in nord.api.get_group_members(nord.adherent_id)}


def test_other_members_stay_manageable_next_to_a_protected_principal(platform, nord):
    email = new_email("second")
    other = nord.api.create_user(
        {
            "email": email,
            "firstName": "Sam",
            "lastName": "Second",
            "enabled": True,
            "attributes": {"collecte": [f"{SIREN_NORD}/1"]},
            "groups": [f"/{NORD}/{SIREN_NORD}"],
        }
    )
    person = nord.api.get_user(other)
    nord.api.update_user(other, {**person, "lastName": "Second-Bis"})
    assert platform.admin.get_user(other)["lastName"] == "Second-Bis"
    nord.api.delete_user(other)


def test_protecting_principals_again_changes_nothing(platform, nord, sud):
    # Other tests of the session write principals too: protect them all once, then again.
    assert {nord.member_id, sud.member_id} <= set(protect_all_principals(platform.admin))
    before = _permissions_snapshot(platform.admin)
    assert protect_principal(platform.admin, nord.member_id) == protect_principal(
        platform.admin, nord.member_id
    )
    protect_all_principals(platform.admin)
    assert _permissions_snapshot(platform.admin) == before


# --- live: what the portal writes reaches the coordinators at once ----------------------------


def _permissions_named(admin: KeycloakAdmin, names: set[str]) -> list[Any]:
    return [p for p in _permissions_snapshot(admin) if p[0] in names]


def test_what_the_portal_writes_reaches_coordinators_without_synchronising(
    platform, gateway, nord, sud
):
    """The portal's service account, which may not write permissions, imports a new adherent with
    a principal and a technical contact: Keycloak's CoordinatorPermissionsListener opens the
    adherent to its coordinators and protects the principal in the same transaction."""
    principal_email, technical_email = new_email("principal-live"), new_email("technique-live")
    table = read_table(
        (
            f"{IMPORT_HEADER}\n"
            f"{principal_email};Live;Paula;;{SIREN_NORD_LIVE};Commune Live;1;collecte\n"
            f"{technical_email};Live;Theo;;{SIREN_NORD_LIVE};Commune Live;1;technique\n"
        ).encode(),
        "membres.csv",
    )
    checked = check(table)
    result = dry_run(checked, gateway.import_state(NORD, {r.email for r in checked.rows}))
    assert result.plan is not None, result.errors
    outcome = gateway.apply_import(
        result.plan, f"{platform.portal_url}/connexion", Change.now("test", "import"), invite=False
    )
    assert (outcome.adherents_created, outcome.created, outcome.principals) == (1, 2, 1)
    adherent_id = platform.admin.get_group_by_path(f"/{NORD}/{SIREN_NORD_LIVE}")["id"]
    principal = platform.admin.get_user_id(principal_email)
    technical = platform.admin.get_user_id(technical_email)

    members = {m["id"] for m in nord.api.get_group_members(adherent_id)}
    assert {principal, technical} <= members
    person = nord.api.get_user(technical)
    nord.api.update_user(technical, {**person, "lastName": "Live-Bis"})
    person = nord.api.get_user(principal)
    forbidden(lambda: nord.api.update_user(principal, {**person, "lastName": "Autre"}))
    forbidden(lambda: sud.api.get_user(technical))

    watched = {
        f"coordonnateurs {NORD} : membres du groupement",
        f"interlocuteur principal {principal}",
    }
    before = _permissions_named(platform.admin, watched)
    assert len(before) == 2
    synchronise(platform.admin)
    assert _permissions_named(platform.admin, watched) == before  # nothing left to catch up


# --- principals written before their groupement had coordinators ----------------------------


def _unprotect(admin: KeycloakAdmin, user_id: str) -> None:
    """Remove the principal's permission if Keycloak's listener wrote one: the principal as it
    stands when written before the extension, before any groupement had coordinators (no
    « gestionnaires des utilisateurs » policy yet), or restored from a backup. Whatever the
    other tests of the session provisioned, the situation is then the same."""
    client_uuid = admin.get_client_id(ADMIN_PERMISSIONS_CLIENT)
    assert client_uuid is not None
    found = find_by_name(admin, client_uuid, f"interlocuteur principal {user_id}")
    if found is not None:
        admin.connection.raw_delete(
            f"admin/realms/collecte/clients/{client_uuid}/authz/resource-server/policy/{found['id']}"
        )
    assert find_by_name(admin, client_uuid, f"interlocuteur principal {user_id}") is None


def _cannot_touch_the_principal(api: KeycloakAdmin, user_id: str, email: str) -> None:
    person = api.get_user(user_id)  # still visible: a member of their groupement
    forbidden(lambda: api.update_user(user_id, {**person, "lastName": "Autre"}))
    forbidden(lambda: api.update_user(user_id, {**person, "email": new_email("autre")}))
    forbidden(lambda: api.delete_user(user_id))


def test_a_principal_written_before_the_groupement_had_coordinators_is_protected(platform):
    admin = platform.admin
    code = f"GRP-AVANT-{uuid.uuid4().hex[:6].upper()}"
    siren = fresh_siren()
    admin.create_group({"name": code, "attributes": {"libelle": [f"Groupement {code}"]}})
    principal_id, principal_email = member(admin, siren, adherent(admin, code, siren))
    _unprotect(admin, principal_id)

    email = new_email("coordination-avant")
    outcome = add_groupement(
        admin,
        code,
        f"Groupement {code}",
        Coordinator(email, "Claire", "Coordonnatrice"),
        platform.keycloak_url,
    )
    platform.mail.wait_for(email)
    api = coordinator_api(platform, email, outcome.coordinator_id)

    _cannot_touch_the_principal(api, principal_id, principal_email)
    after = admin.get_user(principal_id)
    assert (after["email"], after["lastName"]) == (principal_email, "Membre")


def test_synchronising_protects_a_principal_left_without_protection(platform, nord):
    """A principal of a groupement with coordinators whose permission is missing (restored from a
    backup, written by a Keycloak without the extension): `synchroniser` protects it."""
    siren = fresh_siren()
    principal_id, principal_email = member(
        platform.admin, siren, adherent(platform.admin, NORD, siren)
    )
    _unprotect(platform.admin, principal_id)
    person = nord.api.get_user(principal_id)
    nord.api.update_user(principal_id, {**person, "firstName": "Exposée"})  # the hole

    synchronise(platform.admin)

    _cannot_touch_the_principal(nord.api, principal_id, principal_email)
    assert platform.admin.get_user(principal_id)["lastName"] == "Membre"


# --- idempotence -------------------------------------------------------------------------------


def test_provisioning_twice_changes_nothing(platform, world, nord):
    before = _permissions_snapshot(platform.admin)
    events_before = len(
        platform.admin.connection.raw_get("admin/realms/collecte/admin-events", max=10000).json()
    )
    outcome = add_groupement(
        platform.admin,
        NORD,
        f"Groupement {NORD}",
        Coordinator(nord.coordinator_email, "Claire", "Coordonnatrice"),
        platform.keycloak_url,
    )
    assert not outcome.coordinator_created and not outcome.invited
    assert outcome.coordinator_id == nord.coordinator_id
    assert _permissions_snapshot(platform.admin) == before
    events_after = len(
        platform.admin.connection.raw_get("admin/realms/collecte/admin-events", max=10000).json()
    )
    assert events_after == events_before
    names = [name for name, _, _ in before]
    assert f"coordonnateurs {NORD} : membres du groupement" in names
    assert names.count(f"coordonnateurs {NORD}") == 1
