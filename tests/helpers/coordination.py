"""A groupement as the coordinator tests set it up: provisioned by `collecte_kc.coordinators`,
one adherent holding one principal collection contact, and the coordinator's own Admin API.

Shared by the Admin API tests (tests/integration/test_coordinator_permissions.py and
test_coordinator_principals.py, through tests/helpers/coordinator_permissions.py; the write tests
through tests/helpers/coordinator_writes.py) and the admin console tests
(tests/e2e/test_coordinator_console.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from collecte_kc.coordinators import Coordinator, add_groupement
from tests.helpers.signin import admin_api_as

PASSWORD = "Coordination-2025!"  # test set-up only: the product never sets a password


@dataclass
class Groupement:
    code: str
    coordinator_email: str
    coordinator_id: str
    adherent_id: str  # /<code>/<siren>
    member_id: str  # a member of that adherent, principal of lot 1
    member_email: str
    api: KeycloakAdmin  # the Admin API as this groupement's coordinator


def new_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@exemple-groupement.fr"


def adherent(admin: KeycloakAdmin, code: str, siren: str) -> str:
    """The adherent group `/<code>/<siren>` (created if missing); returns its id."""
    groupement = admin.get_group_by_path(f"/{code}")
    admin.create_group(
        {"name": siren, "attributes": {"raisonSociale": [f"Commune {siren}"], "lots": ["1"]}},
        parent=groupement["id"],
        skip_exists=True,
    )
    return str(admin.get_group_by_path(f"/{code}/{siren}")["id"])


def member(admin: KeycloakAdmin, siren: str, group_id: str) -> tuple[str, str]:
    """A new member of the adherent, made its principal of lot 1 (protected as the portal does);
    returns their id and e-mail."""
    email = new_email("membre")
    user_id = admin.create_user(
        {
            "email": email,
            "firstName": "Alex",
            "lastName": "Membre",
            "enabled": True,
            "attributes": {"collecte": [f"{siren}/1"]},
        }
    )
    admin.group_user_add(user_id, group_id)
    group = admin.get_group(group_id)
    attributes = {**group["attributes"], "principal.1": [user_id]}
    # protected from coordinators by Keycloak itself (CoordinatorPermissionsListener)
    admin.update_group(group_id, {**group, "attributes": attributes})
    return str(user_id), email


def add_colleague(admin: KeycloakAdmin, code: str, siren: str) -> str:
    """A member of the adherent `/<code>/<siren>` who is not its principal; returns their id."""
    user_id = admin.create_user(
        {
            "email": new_email("collegue"),
            "firstName": "Noa",
            "lastName": "Collègue",
            "enabled": True,
            "attributes": {"collecte": [f"{siren}/1"]},
            "groups": [f"/{code}/{siren}"],
        }
    )
    return str(user_id)


def coordinator_api(platform: Any, email: str, user_id: str) -> KeycloakAdmin:
    """Test set-up: give the invited coordinator a password as if they had followed the
    invitation, then sign in as they do, through Keycloak's login form
    (tests/helpers/signin.py): the Admin API with the coordinator's own token."""
    activate(platform, user_id)
    return admin_api_as(platform.admin, platform.keycloak_url, email, PASSWORD)


def activate(platform: Any, user_id: str) -> None:
    """Test shortcut for an invitation followed: password `PASSWORD` (set by the bootstrap
    admin, which the product never does), no pending action."""
    platform.admin.set_user_password(user_id, PASSWORD, temporary=False)
    platform.admin.update_user(user_id, {"requiredActions": [], "emailVerified": True})


def groupement(platform: Any, code: str, siren: str) -> Groupement:
    """Provision the groupement `code` with an invited coordinator, then the adherent `siren` and
    its principal; the coordinator is activated (password `PASSWORD`) as a test shortcut. The
    adherent and the principal reach the permissions through Keycloak's listener."""
    admin = platform.admin
    email = new_email(f"coordination-{code.lower()}")
    outcome = add_groupement(
        admin,
        code,
        f"Groupement {code}",
        Coordinator(email, "Claire", "Coordonnatrice"),
        platform.keycloak_url,
    )
    assert outcome.coordinator_created and outcome.invited
    platform.mail.wait_for(email)
    adherent_id = adherent(admin, code, siren)
    member_id, member_email = member(admin, siren, adherent_id)
    return Groupement(
        code,
        email,
        outcome.coordinator_id,
        adherent_id,
        member_id,
        member_email,
        coordinator_api(platform, email, outcome.coordinator_id),
    )


def portal_admin(platform: Any) -> KeycloakAdmin:
    """The portal's service account (manage-users of realm-management), as the portal connects."""
    return KeycloakAdmin(
        connection=KeycloakOpenIDConnection(
            server_url=platform.keycloak_url,
            realm_name="collecte",
            client_id=platform.portal_config["ADMIN_CLIENT_ID"],
            client_secret_key=platform.portal_config["ADMIN_CLIENT_SECRET"],
            grant_type="client_credentials",
            timeout=10,
        )
    )
