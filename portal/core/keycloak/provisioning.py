"""The realm's set-up over the Admin API, for what the realm import cannot express well
(`python -m collecte_kc.provision` reads the files and says in which order).

Every write sends the whole desired state and is skipped when Keycloak already holds it, so that
running the provisioning twice changes nothing. The caller is the master bootstrap client: the
portal's service account may do none of this.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# From its module rather than from "keycloak": the repository's own keycloak/ folder (themes)
# makes ruff's isort take a bare "keycloak" for first-party.
from keycloak.keycloak_admin import KeycloakAdmin

from portal.core.domain import ContactDetails
from portal.core.keycloak import schema

#: Keycloak's built-in client of its command line tools, which must not grant passwords here.
ADMIN_CLI_CLIENT = "admin-cli"
#: Keycloak's account console and the client of its REST API (closed: see close_account_console).
ACCOUNT_CONSOLE_CLIENT = "account-console"
ACCOUNT_CLIENT = "account"


def set_user_profile(admin: KeycloakAdmin, profile: Mapping[str, Any]) -> None:
    """The realm's declarative user profile, as a whole."""
    admin.update_realm_users_profile(dict(profile))


def set_terms_text(admin: KeycloakAdmin, text: str, locale: str = "fr") -> None:
    """The realm's `termsText` in `locale`: the CGU shown by the required action."""
    # python-keycloak has no call for realm localization texts; this endpoint takes text/plain.
    connection = admin.connection
    connection.add_param_headers("Content-Type", "text/plain; charset=utf-8")
    try:
        response = connection.raw_put(
            f"admin/realms/{schema.REALM}/localization/{locale}/termsText",
            data=text.encode("utf-8"),
        )
    finally:
        connection.add_param_headers("Content-Type", "application/json")
    response.raise_for_status()


def set_realm_attribute(admin: KeycloakAdmin, name: str, value: str) -> None:
    """Keycloak replaces the realm's attributes with those of a PUT (absent ones are removed,
    DefaultExportImportManager.updateRealm): send them all back, with this one set."""
    attributes = dict(admin.get_realm(schema.REALM).get("attributes") or {})
    if attributes.get(name) != value:
        attributes[name] = value
        admin.update_realm(schema.REALM, {"attributes": attributes})


def ensure_client_policies(admin: KeycloakAdmin, realm: Mapping[str, Any]) -> None:
    """The client profiles and policies of a realm representation (`realm`, the realm file) in
    the realm, by name; the realm's other ones are kept. Nothing is written when it has them."""
    for kind, key in (("profiles", "clientProfiles"), ("policies", "clientPolicies")):
        path = f"admin/realms/{schema.REALM}/client-policies/{kind}"
        response = admin.connection.raw_get(path)
        response.raise_for_status()
        current: list[dict[str, Any]] = response.json().get(kind) or []
        wanted: list[dict[str, Any]] = realm[key][kind]
        names = {item["name"] for item in wanted}
        merged = [item for item in current if item["name"] not in names] + wanted
        if sorted(current, key=lambda i: i["name"]) != sorted(merged, key=lambda i: i["name"]):
            admin.connection.raw_put(path, data=json.dumps({kind: merged})).raise_for_status()


def close_direct_grants(admin: KeycloakAdmin, client_id: str = ADMIN_CLI_CLIENT) -> None:
    """The client `client_id` (when the realm has it) without the password grant."""
    client_uuid = admin.get_client_id(client_id)
    if client_uuid is not None:
        client = admin.get_client(client_uuid)
        if client.get("directAccessGrantsEnabled"):
            admin.update_client(client_uuid, {**client, "directAccessGrantsEnabled": False})


def close_account_console(admin: KeycloakAdmin) -> None:
    """Keycloak's account console disabled, and the account roles out of the realm's default
    roles: people manage their account from the portal's « Mon compte » (French, the portal's
    rules), never through the console (English error keys, name changes outside those rules,
    an e-mail change silently ignored) or its REST API. Idempotent."""
    client_uuid = admin.get_client_id(ACCOUNT_CONSOLE_CLIENT)
    if client_uuid is not None:
        client = admin.get_client(client_uuid)
        if client.get("enabled", True):
            admin.update_client(client_uuid, {**client, "enabled": False})
    account_uuid = admin.get_client_id(ACCOUNT_CLIENT)
    if account_uuid is None:
        return
    composites = (
        f"admin/realms/{admin.connection.realm_name}/roles/"
        f"default-roles-{admin.connection.realm_name}/composites"
    )
    response = admin.connection.raw_get(f"{composites}/clients/{account_uuid}")
    response.raise_for_status()
    if granted := response.json():
        admin.connection.raw_delete(composites, data=json.dumps(granted)).raise_for_status()


def ensure_optional_client_scope(admin: KeycloakAdmin, representation: Mapping[str, Any]) -> None:
    """The client scope of `representation`, created when no scope has its name (one already
    there is left as it is: an administrator may have tuned it), and listed among the realm's
    optional client scopes, which clients made later get."""
    name = representation["name"]
    found = next((s for s in admin.get_client_scopes() if s.get("name") == name), None)
    if found is None:
        scope_id = str(admin.create_client_scope(dict(representation)))
    else:
        scope_id = str(found["id"])
    optional = {str(s["id"]) for s in admin.get_default_optional_client_scopes()}
    if scope_id not in optional:
        admin.add_default_optional_client_scope(scope_id)


def create_staff_member(admin: KeycloakAdmin, details: ContactDetails, role: str) -> str:
    """A new platform staff member (enabled, no password: the invitation makes them choose
    one) holding the realm role `role`; returns their id."""
    person_id = str(
        admin.create_user(
            {
                "email": details.email,
                "firstName": details.first_name,
                "lastName": details.last_name,
                "enabled": True,
            }
        )
    )
    admin.assign_realm_roles(person_id, [admin.get_realm_role(role)])
    return person_id
