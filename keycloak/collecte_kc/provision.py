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
from portal.core.keycloak import provisioning, schema

# Shown in a French message (MessageFormat) and stored as an attribute: no quotes nor braces.
CGU_VERSION_PATTERN = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,39}")


def admin_client(server_url: str, client_id: str, client_secret: str) -> KeycloakAdmin:
    """An Admin API client for realm `collecte`, authenticated as the master bootstrap client."""
    connection = KeycloakOpenIDConnection(
        server_url=server_url,
        realm_name=schema.REALM,
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
    # A checked input raising a French message, shaped like coordinators' validate_code.
    if not CGU_VERSION_PATTERN.fullmatch(value):
        raise ValueError(
            f"Version des CGU invalide : {value!r} (lettres, chiffres, « . », « _ » ou « - », "
            "40 caractères au plus, p. ex. 2026-11)."
        )
    return value


def provision(admin: KeycloakAdmin) -> None:
    version = cgu_version()  # checked before anything is written
    close_password_grant(admin)
    provisioning.close_account_console(admin)
    ensure_claims_scope(admin)
    provisioning.set_user_profile(admin, json.loads(USER_PROFILE_FILE.read_text("utf-8")))
    provisioning.set_terms_text(admin, cgu_file().read_text("utf-8"))
    # The version after the text: someone accepting in between is asked again (the text they saw
    # is the new one), never recorded with a version whose text they did not see.
    provisioning.set_realm_attribute(admin, schema.TERMS_CURRENT_VERSION, version)


def _realm_file() -> dict[str, Any]:
    realm: dict[str, Any] = json.loads(REALM_FILE.read_text("utf-8"))
    return realm


def close_password_grant(admin: KeycloakAdmin) -> None:
    """The realm file's client profiles and policies in the realm (by name; the realm's other
    ones kept), then `admin-cli` without direct grants. Idempotent: nothing is written when the
    realm already has them."""
    provisioning.ensure_client_policies(admin, _realm_file())
    provisioning.close_direct_grants(admin)


def ensure_claims_scope(admin: KeycloakAdmin) -> None:
    """The realm file's client scope `perimetres-collecte`, created when absent, and listed
    among the realm's optional client scopes. Idempotent."""
    scopes = _realm_file()["clientScopes"]
    provisioning.ensure_optional_client_scope(
        admin, next(s for s in scopes if s["name"] == schema.PERIMETERS_SCOPE)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Provisionne le realm collecte (idempotent).")
    add_url_argument(parser)
    provision(admin_from_environment(parser.parse_args().url))
    print("Realm collecte provisionné.")


if __name__ == "__main__":
    main()
