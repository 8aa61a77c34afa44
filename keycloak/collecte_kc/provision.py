"""Idempotent provisioning over the Admin API: what the realm import cannot express well.

- the declarative user profile, kept readable in `keycloak/user-profile.json` (the import could
  only carry it as one escaped JSON string inside a component);
- the CGU text, read from a file (`COLLECTE_CGU_FILE`, else `keycloak/cgu/cgu-fr.html`) and set
  as the realm's French `termsText`, so replacing the CGU never means editing a theme;
- the version of that text (`COLLECTE_CGU_VERSION`, else `keycloak/cgu/VERSION`), set as the
  realm attribute `cguVersion`: our required action (VersionedTermsAndConditions) records it on
  each acceptance and asks anyone who accepted another version to accept again;
- no password grant (ROPC) on a realm imported before it was closed: the client profile and
  policy of `realm-export.json` (executor `reject-ropc-grant`, any client) are added to the realm's
  own (others are kept), and the built-in `admin-cli` loses its direct grants. (The direct-grant
  flow « octroi direct collecte », a second layer, comes with the realm import only.)
- the client scope `perimetres-collecte` (claims `perimetres` and `version_cgu`, our protocol
  mapper) on a realm imported before it existed: created from `realm-export.json` when absent,
  and made one of the realm's optional client scopes (clients made later get it as optional).
  A scope already there is left as it is (an administrator may have tuned it).

Every step is a PUT of the whole desired state, so running it twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from collecte_kc.paths import CGU_FILE, CGU_VERSION_FILE, REALM_FILE, USER_PROFILE_FILE

REALM = "collecte"
#: Realm attribute holding the CGU version in force (read by the Keycloak extension and the portal).
CGU_VERSION_ATTRIBUTE = "cguVersion"
# Shown in a French message (MessageFormat) and stored as an attribute: no quotes nor braces.
CGU_VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,39}")


def admin_client(server_url: str, client_id: str, client_secret: str) -> KeycloakAdmin:
    """An Admin API client for realm `collecte`, authenticated as the master bootstrap client."""
    connection = KeycloakOpenIDConnection(
        server_url=server_url,
        realm_name=REALM,
        user_realm_name="master",
        client_id=client_id,
        client_secret_key=client_secret,
        grant_type="client_credentials",
        timeout=10,
    )
    return KeycloakAdmin(connection=connection)


def add_url_argument(parser: argparse.ArgumentParser) -> None:
    """`--url` of Keycloak, shared by the project's command lines."""
    parser.add_argument(
        "--url",
        default=os.environ.get("COLLECTE_KEYCLOAK_URL", "http://localhost:8080"),
        help="adresse de Keycloak (défaut : COLLECTE_KEYCLOAK_URL ou http://localhost:8080)",
    )


def admin_from_environment(server_url: str) -> KeycloakAdmin:
    """The command lines' Admin API client: the master bootstrap client named by
    COLLECTE_BOOTSTRAP_CLIENT_ID (default collecte-bootstrap), with
    COLLECTE_BOOTSTRAP_CLIENT_SECRET."""
    secret = os.environ.get("COLLECTE_BOOTSTRAP_CLIENT_SECRET")
    if not secret:
        sys.exit("COLLECTE_BOOTSTRAP_CLIENT_SECRET est obligatoire.")
    client_id = os.environ.get("COLLECTE_BOOTSTRAP_CLIENT_ID", "collecte-bootstrap")
    return admin_client(server_url, client_id, secret)


def cgu_file() -> Path:
    return Path(os.environ.get("COLLECTE_CGU_FILE") or CGU_FILE)


def cgu_version() -> str:
    """The CGU version in force: `COLLECTE_CGU_VERSION`, else the first line of `VERSION`."""
    value = (os.environ.get("COLLECTE_CGU_VERSION") or "").strip()
    if not value:
        lines = CGU_VERSION_FILE.read_text("utf-8").strip().splitlines()
        value = lines[0].strip() if lines else ""
    if not CGU_VERSION_PATTERN.fullmatch(value):
        raise ValueError(
            f"Version des CGU invalide : {value!r} (lettres, chiffres, « . », « _ » ou « - », "
            "40 caractères au plus, p. ex. 2026-11)."
        )
    return value


def provision(admin: KeycloakAdmin) -> None:
    version = cgu_version()  # checked before anything is written
    close_password_grant(admin)
    ensure_claims_scope(admin)
    admin.update_realm_users_profile(json.loads(USER_PROFILE_FILE.read_text("utf-8")))
    # python-keycloak has no call for realm localization texts; this endpoint takes text/plain.
    connection = admin.connection
    connection.add_param_headers("Content-Type", "text/plain; charset=utf-8")
    try:
        response = connection.raw_put(
            f"admin/realms/{REALM}/localization/fr/termsText",
            data=cgu_file().read_text("utf-8").encode("utf-8"),
        )
    finally:
        connection.add_param_headers("Content-Type", "application/json")
    response.raise_for_status()
    # The version after the text: someone accepting in between is asked again (the text they saw
    # is the new one), never recorded with a version whose text they did not see.
    _set_realm_attribute(admin, CGU_VERSION_ATTRIBUTE, version)


def close_password_grant(admin: KeycloakAdmin) -> None:
    """The realm file's client profiles and policies in the realm (by name; the realm's other
    ones kept), then `admin-cli` without direct grants. Idempotent: nothing is written when the
    realm already has them."""
    realm = json.loads(REALM_FILE.read_text("utf-8"))
    for kind, key in (("profiles", "clientProfiles"), ("policies", "clientPolicies")):
        path = f"admin/realms/{REALM}/client-policies/{kind}"
        response = admin.connection.raw_get(path)
        response.raise_for_status()
        current: list[dict[str, Any]] = response.json().get(kind) or []
        wanted: list[dict[str, Any]] = realm[key][kind]
        names = {item["name"] for item in wanted}
        merged = [item for item in current if item["name"] not in names] + wanted
        if sorted(current, key=lambda i: i["name"]) != sorted(merged, key=lambda i: i["name"]):
            admin.connection.raw_put(path, data=json.dumps({kind: merged})).raise_for_status()
    admin_cli = admin.get_client_id("admin-cli")
    if admin_cli is not None:
        client = admin.get_client(admin_cli)
        if client.get("directAccessGrantsEnabled"):
            admin.update_client(admin_cli, {**client, "directAccessGrantsEnabled": False})


#: The client scope an application asks for to get the claims `perimetres` and `version_cgu`.
CLAIMS_SCOPE = "perimetres-collecte"


def ensure_claims_scope(admin: KeycloakAdmin) -> None:
    """The realm file's client scope `perimetres-collecte`, created when absent, and listed
    among the realm's optional client scopes. Idempotent."""
    scope_id = _client_scope_id(admin, CLAIMS_SCOPE)
    if scope_id is None:
        realm = json.loads(REALM_FILE.read_text("utf-8"))
        wanted = next(s for s in realm["clientScopes"] if s["name"] == CLAIMS_SCOPE)
        scope_id = str(admin.create_client_scope(wanted))
    optional = {str(s["id"]) for s in admin.get_default_optional_client_scopes()}
    if scope_id not in optional:
        admin.add_default_optional_client_scope(scope_id)


def _client_scope_id(admin: KeycloakAdmin, name: str) -> str | None:
    found = next((s for s in admin.get_client_scopes() if s.get("name") == name), None)
    return None if found is None else str(found["id"])


def _set_realm_attribute(admin: KeycloakAdmin, name: str, value: str) -> None:
    """Keycloak replaces the realm's attributes with those of a PUT (absent ones are removed,
    DefaultExportImportManager.updateRealm): send them all back, with this one set."""
    attributes = dict(admin.get_realm(REALM).get("attributes") or {})
    if attributes.get(name) != value:
        attributes[name] = value
        admin.update_realm(REALM, {"attributes": attributes})


def main() -> None:
    parser = argparse.ArgumentParser(description="Provisionne le realm collecte (idempotent).")
    add_url_argument(parser)
    provision(admin_from_environment(parser.parse_args().url))
    print("Realm collecte provisionné.")


if __name__ == "__main__":
    main()
