"""``portal.core.keycloak.schema`` names the realm's model once: checked here against the realm
files (``realm-export.json``, ``keycloak/user-profile.json``) and against the constants of the
Java extensions, read from the COMPILED classes (``javap -constants`` on the providers jar that
``collecte_kc.providers`` builds), so a renamed constant in Java fails here, not in production."""

from __future__ import annotations

import json
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

from portal.core.domain import Function
from portal.core.keycloak import schema

ROOT = Path(__file__).resolve().parents[4]
#: The user profile's own attributes (Keycloak's, not the realm model's).
KEYCLOAK_USER_FIELDS = {"username", "email", "firstName", "lastName"}
PACKAGE = "fr.collecte.keycloak"


def _json(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((ROOT / name).read_text(encoding="utf-8"))


# --- the realm files ----------------------------------------------------------------------------


def test_every_user_profile_attribute_is_named_in_the_schema_and_back() -> None:
    profile = {a["name"] for a in _json("keycloak/user-profile.json")["attributes"]}
    named = {
        schema.PHONE_FIXED,
        schema.PHONE_MOBILE,
        *schema.FUNCTIONS,
        *schema.PORTAL_RECORDS,
        schema.REVISION,
        schema.TERMS_ACCEPTED_VERSION,
    }
    assert profile - KEYCLOAK_USER_FIELDS == named


def test_realm_name_roles_clients_and_required_actions_exist_in_the_realm_export() -> None:
    realm = _json("realm-export.json")
    assert realm["realm"] == schema.REALM
    roles = {role["name"] for role in realm["roles"]["realm"]}
    assert {schema.STAFF_ROLE, schema.SUPPORT_ROLE, schema.COORDINATOR_ROLE} == roles
    clients = {client["clientId"] for client in realm["clients"]}
    assert {schema.PORTAL_CLIENT, schema.PORTAL_ADMIN_CLIENT} <= clients
    actions = {action["alias"] for action in realm["requiredActions"]}
    assert set(schema.INVITATION_ACTIONS) <= actions
    assert schema.VERIFY_EMAIL in actions


def test_the_functions_are_the_schema_s_attributes() -> None:
    assert tuple(function.value for function in Function) == schema.FUNCTIONS


def test_paths_and_principal_attribute() -> None:
    assert schema.adherent_path("GRP", "123456782") == "/GRP/123456782"
    assert schema.coordinators_path("GRP") == f"/{schema.COORDINATORS_GROUP}/GRP"
    assert schema.principal_attribute("1") == f"{schema.PRINCIPAL_PREFIX}1"


# --- the compiled Java constants ----------------------------------------------------------------


@cache
def _jar_and_javap() -> tuple[Path, Path]:
    from collecte_kc.dist import keycloak_home
    from collecte_kc.providers import ensure_providers_jar
    from collecte_kc.server import KeycloakStartError, find_java_home

    home = keycloak_home()
    if not (home / "lib").is_dir():
        pytest.fail("no Keycloak distribution in .cache/ (./keycloak/bootstrap.sh fetches it)")
    try:
        java_home = find_java_home()
    except KeycloakStartError:
        pytest.fail("no JDK: the providers jar cannot be built")
    return ensure_providers_jar(home, java_home), java_home / "bin" / "javap"


@cache
def _javap(simple_name: str) -> str:
    jar, javap = _jar_and_javap()
    command = [str(javap), "-constants", "-p", "-c", "-classpath", str(jar)]
    result = subprocess.run(
        [*command, f"{PACKAGE}.{simple_name}"], capture_output=True, text=True, check=True
    )
    return result.stdout


def java_constant(simple_name: str, field: str) -> str:
    """The value of a compile-time String constant, as javap prints it from the class file."""
    pattern = rf'static final java\.lang\.String {field} = "((?:[^"\\]|\\.)*)";'
    found = re.search(pattern, _javap(simple_name))
    assert found, f"{simple_name}.{field} is not a String constant of the compiled class"
    return found.group(1)


def java_string_list(simple_name: str, field: str) -> tuple[str, ...]:
    """The strings a static ``List.of(...)`` field is built from, in order: the ``ldc`` of its
    static initializer since the previous ``putstatic`` (constants folded by javac included)."""
    strings: list[str] = []
    for line in _javap(simple_name).splitlines():
        if (loaded := re.search(r"\bldc(?:_w)?\b.*// String (.*)$", line)) is not None:
            strings.append(loaded.group(1))
        elif "putstatic" in line:
            if line.rstrip().endswith(f"Field {field}:Ljava/util/List;"):
                return tuple(strings)
            strings = []
    raise AssertionError(f"{simple_name}.{field}: no List initialised in the compiled class")


JAVA_CONSTANTS = [
    ("CollecteSchema", "COLLECTION", schema.COLLECTION),
    ("CollecteSchema", "TECHNICAL", schema.TECHNICAL),
    ("CollecteSchema", "BILLING", schema.BILLING),
    ("CollecteSchema", "LOTS", schema.LOTS),
    ("CollecteSchema", "COORDINATORS_GROUP", schema.COORDINATORS_GROUP),
    ("CollecteSchema", "COORDINATOR_ROLE", schema.COORDINATOR_ROLE),
    ("CollecteSchema", "STAFF_ROLE", schema.STAFF_ROLE),
    ("Revisions", "ATTRIBUTE", schema.REVISION),
    ("VersionedTermsAndConditions", "REALM_VERSION", schema.TERMS_CURRENT_VERSION),
    ("VersionedTermsAndConditions", "SHOWN_VERSION", schema.TERMS_CURRENT_VERSION),
    ("VersionedTermsAndConditions", "ACCEPTED_VERSION", schema.TERMS_ACCEPTED_VERSION),
    ("VersionedTermsAndConditions", "STAFF_ROLE", schema.STAFF_ROLE),
    ("SessionRevocationListener", "STAFF_ROLE", schema.STAFF_ROLE),
    ("LatestInvitationActionTokenHandler", "INVITATION_SENT", schema.INVITATION_SENT),
    ("Perimeters", "RAISON_SOCIALE", schema.COMPANY_NAME),
    ("Perimeters", "PRINCIPAL_PREFIX", schema.PRINCIPAL_PREFIX),
    ("RevisionedGroupResource", "PRINCIPAL_PREFIX", schema.PRINCIPAL_PREFIX),
    ("CoordinatorPermissionsListener", "PRINCIPAL_PREFIX", schema.PRINCIPAL_PREFIX),
]


@pytest.mark.parametrize(
    ("java_class", "field", "python"),
    JAVA_CONSTANTS,
    ids=[f"{java_class}.{field}" for java_class, field, _ in JAVA_CONSTANTS],
)
def test_java_constants_match_the_schema(java_class: str, field: str, python: str) -> None:
    assert java_constant(java_class, field) == python


def test_java_lists_match_the_schema() -> None:
    assert java_string_list("CollecteSchema", "FUNCTIONS") == schema.FUNCTIONS
    assert java_string_list("CollecteSchema", "PORTAL_RECORDS") == schema.PORTAL_RECORDS
