"""Checks of the realm file and the themes that need no server (the user profile and our
extensions are tried against Keycloak: tests/integration)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collecte_kc.paths import REALM_FILE, THEMES_DIR

REALM: dict[str, Any] = json.loads(REALM_FILE.read_text("utf-8"))
LOGIN_THEME = THEMES_DIR / "collecte" / "login"
EMAIL_THEME = THEMES_DIR / "collecte" / "email"
PADDED_RESET_EMAIL = "collecte-reset-credential-email"


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _flow(alias: str) -> dict[str, Any]:
    return next(f for f in REALM["authenticationFlows"] if f["alias"] == alias)


def _client(client_id: str) -> dict[str, Any]:
    return next(c for c in REALM["clients"] if c["clientId"] == client_id)


def _properties(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            entries[key.strip()] = value.strip()
    return entries


def test_realm_file_carries_no_generated_ids():
    assert not [key for key, _ in _walk(REALM) if key in ("id", "containerId", "flowId")]


def test_client_secrets_come_from_the_environment():
    for client in REALM["clients"]:
        if client["publicClient"]:  # admin-cli, listed to close its password grant
            assert "secret" not in client, client["clientId"]
            continue
        assert re.fullmatch(r"\$\{COLLECTE_[A-Z_]+\}", client["secret"]), client["clientId"]


def test_no_listed_client_has_the_password_grant_and_the_realm_refuses_it_anyway():
    """Keycloak's built-in admin-cli is listed only to have its password grant off; the client
    policy refuses the grant for every client, future ones too (tested against Keycloak in
    tests/integration/test_no_token_by_any_path.py)."""
    assert not [c["clientId"] for c in REALM["clients"] if c.get("directAccessGrantsEnabled", True)]
    assert _client("admin-cli")["publicClient"]
    [policy] = REALM["clientPolicies"]["policies"]
    assert policy["enabled"] and policy["conditions"] == [
        {"condition": "any-client", "configuration": {}}
    ]
    [profile] = REALM["clientProfiles"]["profiles"]
    assert policy["profiles"] == [profile["name"]]
    assert [e["executor"] for e in profile["executors"]] == ["reject-ropc-grant"]


def test_portal_client_uses_code_flow_with_pkce_and_exact_redirects():
    portal = _client("collecte-portail")
    assert portal["standardFlowEnabled"] and not portal["publicClient"]
    assert not portal["directAccessGrantsEnabled"] and not portal["implicitFlowEnabled"]
    assert portal["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all("*" not in uri for uri in portal["redirectUris"])


def test_admin_client_is_a_service_account_without_realm_admin():
    admin = _client("collecte-portail-admin")
    assert admin["serviceAccountsEnabled"] and not admin["standardFlowEnabled"]
    account = next(
        u for u in REALM["users"] if u.get("serviceAccountClientId") == admin["clientId"]
    )
    roles = set(account["clientRoles"]["realm-management"])
    assert "realm-admin" not in roles and "manage-realm" not in roles


def test_flows_reference_only_defined_subflows_and_configs():
    flows = {flow["alias"] for flow in REALM["authenticationFlows"]}
    configs = {config["alias"] for config in REALM["authenticatorConfig"]}
    assert REALM["browserFlow"] in flows and REALM["resetCredentialsFlow"] in flows
    assert REALM["directGrantFlow"] in flows
    for flow in REALM["authenticationFlows"]:
        for step in flow["authenticationExecutions"]:
            if step["authenticatorFlow"]:
                assert step["flowAlias"] in flows
            if "authenticatorConfig" in step:
                assert step["authenticatorConfig"] in configs


def test_refusal_follows_identification_in_both_flows():
    """The deny sub-flow must come after the password (login) and after the e-mail link (reset),
    so neither form says anything about an address."""
    by_alias = {flow["alias"]: flow for flow in REALM["authenticationFlows"]}
    browser = sorted(
        by_alias[REALM["browserFlow"]]["authenticationExecutions"], key=lambda s: s["priority"]
    )
    assert [s.get("flowAlias") for s in browser] == [
        "navigateur collecte - identification",
        "navigateur collecte - refus",
        # the second factor only once the person may sign in at all (tests/e2e/test_second_factor)
        "navigateur collecte - second facteur",
        "navigateur collecte - second facteur du personnel",
    ]
    reset = sorted(
        by_alias[REALM["resetCredentialsFlow"]]["authenticationExecutions"],
        key=lambda s: s["priority"],
    )
    steps = [s.get("authenticator") or s.get("flowAlias") for s in reset]
    assert steps.index(PADDED_RESET_EMAIL) < steps.index("mot de passe oublie collecte - refus")
    assert steps.index("mot de passe oublie collecte - refus") < steps.index("reset-password")
    direct = sorted(
        by_alias[REALM["directGrantFlow"]]["authenticationExecutions"], key=lambda s: s["priority"]
    )
    assert [s.get("authenticator") or s.get("flowAlias") for s in direct] == [
        "direct-grant-validate-username",
        "direct-grant-validate-password",
        "octroi direct collecte - refus",
    ]


def test_reset_mail_step_answers_after_the_same_minimum_time_for_every_address():
    """Keycloak's own step sends the mail before answering, so a known address answers later;
    ours pads every first pass to a minimum that must exceed the slowest normal send."""
    reset = _flow(REALM["resetCredentialsFlow"])["authenticationExecutions"]
    authenticators = [s.get("authenticator") for s in reset]
    assert "reset-credential-email" not in authenticators
    step = next(s for s in reset if s.get("authenticator") == PADDED_RESET_EMAIL)
    config = next(
        c for c in REALM["authenticatorConfig"] if c["alias"] == step["authenticatorConfig"]
    )
    assert int(config["config"]["minimumResponseMillis"]) >= 1000


REFUSAL_SUBFLOWS = [
    "navigateur collecte - refus",
    "octroi direct collecte - refus",
    "mot de passe oublie collecte - refus",
]


@pytest.mark.parametrize("alias", REFUSAL_SUBFLOWS)
def test_refusal_reads_the_authority_rule_not_the_attribute_alone(alias):
    """Refused: no perimeter under the authority rule (our condition, NoPerimeterCondition) and
    not staff; Keycloak's attribute condition would let a `collecte` value without membership of
    the adherent's group in (tests/integration/test_perimetres.py)."""
    steps = sorted(_flow(alias)["authenticationExecutions"], key=lambda s: s["priority"])
    assert [s["authenticator"] for s in steps] == [
        "collecte-condition-sans-perimetre",
        "conditional-user-role",
        "deny-access-authenticator",
    ]


def test_claims_scope_is_an_optional_realm_scope_with_our_mapper_off_the_access_token():
    """`scope=openid perimetres-collecte` gives the claims; the access token stays small.
    `CreateDefaultClientScopes`: with `clientScopes` in the file, Keycloak's import creates its
    own scopes (profile, email, roles...) only when asked
    (RealmManager.isCreateDefaultClientScopes, Keycloak 26.7.3)."""
    assert REALM["attributes"]["CreateDefaultClientScopes"] == "true"
    assert REALM["defaultOptionalClientScopes"] == ["perimetres-collecte"]
    assert "defaultDefaultClientScopes" not in REALM
    [scope] = REALM["clientScopes"]
    assert scope["name"] == "perimetres-collecte" and scope["protocol"] == "openid-connect"
    assert scope["attributes"] == {
        "include.in.token.scope": "true",
        "display.on.consent.screen": "false",
    }
    [mapper] = scope["protocolMappers"]
    assert mapper["protocolMapper"] == "collecte-perimetres"
    assert mapper["config"].get("access.token.claim", "false") == "false"
    assert mapper["config"]["id.token.claim"] == mapper["config"]["userinfo.token.claim"] == "true"


def test_refusal_message_key_exists_in_the_french_login_theme():
    messages = _properties(LOGIN_THEME / "messages" / "messages_fr.properties")
    for config in REALM["authenticatorConfig"]:
        key = config["config"].get("denyErrorMessage")
        if key:
            assert "interlocuteur de collecte" in messages[key]


def test_cgu_is_a_default_required_action():
    terms = next(a for a in REALM["requiredActions"] if a["alias"] == "TERMS_AND_CONDITIONS")
    assert terms["enabled"] and terms["defaultAction"]


def test_themes_extend_keycloak_themes():
    assert "parent=keycloak.v2" in (LOGIN_THEME / "theme.properties").read_text("utf-8")
    assert "parent=base" in (EMAIL_THEME / "theme.properties").read_text("utf-8")


def test_every_message_used_by_our_templates_is_defined_in_french():
    messages = _properties(LOGIN_THEME / "messages" / "messages_fr.properties")
    for template in LOGIN_THEME.glob("*.ftl"):
        for key in re.findall(r'msg\("([A-Za-z.]+)"', template.read_text("utf-8")):
            assert key in messages, f"{template.name}: {key}"


def test_invitation_and_reset_mails_are_written_in_french():
    messages = _properties(EMAIL_THEME / "messages" / "messages_fr.properties")
    for key in (
        "executeActionsSubject",
        "executeActionsBody",
        "executeActionsBodyHtml",
        "passwordResetSubject",
        "passwordResetBody",
        "passwordResetBodyHtml",
        "emailVerificationSubject",
        "emailVerificationBody",
        "emailVerificationBodyHtml",
    ):
        assert key in messages
    assert "{0}" in messages["executeActionsBody"] and "{4}" in messages["executeActionsBody"]
