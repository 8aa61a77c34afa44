"""The realm file imports cleanly on a fresh data folder and provisioning is idempotent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from collecte_kc.provision import provision
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import password_grant

VOLATILE_KEYS = {"id", "notBefore"}


def _snapshot(admin: Any) -> dict[str, Any]:
    realm = {k: v for k, v in admin.get_realm("collecte").items() if k not in VOLATILE_KEYS}
    texts = admin.connection.raw_get("admin/realms/collecte/localization/fr").json()
    flows = {
        alias: admin.get_authentication_flow_executions(alias)
        for alias in (
            "navigateur collecte",
            "octroi direct collecte",
            "mot de passe oublie collecte",
        )
    }
    policies = {
        kind: admin.connection.raw_get(f"admin/realms/collecte/client-policies/{kind}").json()
        for kind in ("profiles", "policies")
    }
    return {
        "realm": realm,
        "client-policies": policies,
        "clients": admin.get_clients(),
        "profile": admin.get_realm_users_profile(),
        "texts": texts,
        "flows": flows,
    }


def test_fresh_import_has_the_expected_realm(platform):
    realm = platform.admin.get_realm("collecte")
    assert realm["defaultLocale"] == "fr" and realm["internationalizationEnabled"]
    assert realm["loginTheme"] == realm["emailTheme"] == "collecte"
    assert realm["registrationEmailAsUsername"] and realm["loginWithEmailAllowed"]
    assert not realm["registrationAllowed"]
    assert realm["resetPasswordAllowed"] and realm["verifyEmail"]
    assert realm["bruteForceProtected"] and not realm["permanentLockout"]
    assert realm["eventsEnabled"] and realm["adminEventsEnabled"]
    # personal data in events kept one year, then removed by Keycloak: sign-ins and admin events
    year = 365 * 24 * 3600
    assert realm["eventsExpiration"] == year
    assert realm["attributes"]["adminEventsExpiration"] == str(year)
    assert realm["directGrantFlow"] == "octroi direct collecte"
    assert "length(12)" in realm["passwordPolicy"]
    assert "notEmail" in realm["passwordPolicy"] and "passwordHistory(5)" in realm["passwordPolicy"]
    terms = next(
        a for a in platform.admin.get_required_actions() if a["alias"] == "TERMS_AND_CONDITIONS"
    )
    assert terms["enabled"] and terms["defaultAction"]


def test_every_new_person_must_accept_the_cgu(platform, create_person):
    person = platform.admin.get_user(create_person(collecte=["213100019/1"]))
    assert "TERMS_AND_CONDITIONS" in person["requiredActions"]


def test_provisioning_twice_changes_nothing(platform):
    provision(platform.admin)
    before = _snapshot(platform.admin)
    provision(platform.admin)
    assert _snapshot(platform.admin) == before
    assert "TEXTE PROVISOIRE" in before["texts"]["termsText"]


def test_provisioning_closes_the_password_grant_of_a_realm_imported_before(platform, create_person):
    """A realm imported before the client policy existed, admin-cli open: provisioning closes
    the grant again (and the realm's own other policies are kept)."""
    admin = platform.admin
    path = "admin/realms/collecte/client-policies/policies"
    saved = admin.connection.raw_get(path).json()
    admin_cli = admin.get_client_id("admin-cli")
    try:
        admin.connection.raw_put(path, data=json.dumps({"policies": []})).raise_for_status()
        admin.update_client(admin_cli, {"directAccessGrantsEnabled": True})
        person = create_person(collecte=["213100019/1"])
        admin.set_user_password(person, "Essai-Ancien-Realm-2026!", temporary=False)
        admin.update_user(person, {"requiredActions": [], "emailVerified": True})
        email = admin.get_user(person)["email"]
        opened = password_grant(
            platform.keycloak_url, "admin-cli", email, "Essai-Ancien-Realm-2026!"
        )
        assert opened.status_code == 200  # the attack, on such a realm

        provision(admin)

        assert not admin.get_client(admin_cli)["directAccessGrantsEnabled"]
        assert admin.connection.raw_get(path).json() == saved
        closed = password_grant(
            platform.keycloak_url, "admin-cli", email, "Essai-Ancien-Realm-2026!"
        )
        assert closed.status_code == 400 and "access_token" not in closed.text
    finally:
        admin.connection.raw_put(path, data=json.dumps(saved)).raise_for_status()
        admin.update_client(admin_cli, {"directAccessGrantsEnabled": False})


def test_portal_client_refuses_direct_password_grants(platform, create_person):
    """Asked correctly (a collection contact with a password, the client's secret): refused
    because the client has no password grant, not for a failed client authentication."""
    person = create_person(collecte=["213100019/1"])
    platform.admin.set_user_password(person, "Essai-Portail-Direct-2026!", temporary=False)
    platform.admin.update_user(person, {"requiredActions": [], "emailVerified": True})
    response = password_grant(
        platform.keycloak_url,
        "collecte-portail",
        platform.admin.get_user(person)["email"],
        "Essai-Portail-Direct-2026!",
        platform.portal_config["OIDC_CLIENT_SECRET"],
    )
    assert response.status_code == 400, response.text
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "Client not allowed for direct access grants",
    }


def test_portal_service_account_holds_only_the_roles_it_needs(platform):
    admin = platform.admin
    account = admin.get_client_service_account_user(admin.get_client_id("collecte-portail-admin"))
    management = admin.get_client_id("realm-management")
    roles = {
        role["name"] for role in admin.get_composite_client_roles_of_user(account["id"], management)
    }
    assert "realm-admin" not in roles and "manage-realm" not in roles
    assert {"manage-users", "view-users", "query-users"} <= roles


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("{siren}/1", True),
        ("{siren}/lot-2", True),
        ("12345/1", False),
        ("21350001/1", False),
        ("{siren}", False),
        ("{siren}0/1", False),
        ("{siren}/", False),
        ("ABCDEFGHI/1", False),
    ],
)
def test_siren_lot_values_are_validated_by_the_user_profile(
    platform, unique_email, value, accepted
):
    """Keycloak's user profile (pattern of `collecte`), asked by the realm's user managers."""
    value = value.format(siren=fresh_siren())
    response = platform.admin.connection.raw_post(
        "admin/realms/collecte/users",
        data=json.dumps(
            {
                "email": unique_email(),
                "firstName": "Alex",
                "lastName": "Bernard",
                "enabled": True,
                "attributes": {"collecte": [value]},
            }
        ),
    )
    assert response.status_code == (201 if accepted else 400), response.text
