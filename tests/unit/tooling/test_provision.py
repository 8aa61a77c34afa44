"""Provisioning without a server: the CGU version (environment, else file) and what is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses

from collecte_kc import provision
from collecte_kc.paths import CGU_FILE, CGU_VERSION_FILE, REALM_FILE, USER_PROFILE_FILE
from tests.helpers.settings import ADMIN_REALM_URL, KEYCLOAK_URL

MASTER_TOKEN = f"{KEYCLOAK_URL}/realms/master/protocol/openid-connect/token"


def test_the_version_file_holds_a_valid_version() -> None:
    assert provision.CGU_VERSION_PATTERN.fullmatch(CGU_VERSION_FILE.read_text("utf-8").strip())


def test_version_comes_from_the_file_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version_file = tmp_path / "VERSION"
    version_file.write_text("2027-01\n", "utf-8")
    monkeypatch.setattr(provision, "CGU_VERSION_FILE", version_file)
    assert provision.cgu_version() == "2027-01"


def test_the_environment_wins_over_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLECTE_CGU_VERSION", " 2027-02 ")
    assert provision.cgu_version() == "2027-02"


@pytest.mark.parametrize("value", ["2026 11", "v{0}", "l'ancienne", "x" * 41, "-2026"])
def test_a_version_that_could_not_be_shown_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("COLLECTE_CGU_VERSION", value)
    with pytest.raises(ValueError, match="Version des CGU invalide"):
        provision.cgu_version()


def test_an_empty_version_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    version_file = tmp_path / "VERSION"
    version_file.write_text("\n", "utf-8")
    monkeypatch.setattr(provision, "CGU_VERSION_FILE", version_file)
    with pytest.raises(ValueError, match="Version des CGU invalide"):
        provision.cgu_version()


REALM_FILE_JSON = json.loads(REALM_FILE.read_text("utf-8"))
POLICIES_URL = f"{ADMIN_REALM_URL}/client-policies"
CLIENTS_URL = f"{ADMIN_REALM_URL}/clients"
ADMIN_CLI = {"id": "admin-cli-uuid", "clientId": "admin-cli", "publicClient": True}


def _password_grant_calls(
    kc: responses.RequestsMock,
    profiles: list[dict[str, Any]],
    policies: list[dict[str, Any]],
    direct_grants: bool,
) -> None:
    kc.get(f"{POLICIES_URL}/profiles", json={"profiles": profiles})
    kc.get(f"{POLICIES_URL}/policies", json={"policies": policies})
    kc.get(CLIENTS_URL, json=[ADMIN_CLI])
    kc.get(
        f"{CLIENTS_URL}/admin-cli-uuid",
        json={**ADMIN_CLI, "directAccessGrantsEnabled": direct_grants},
    )


def _closed_realm_calls(kc: responses.RequestsMock) -> None:
    _password_grant_calls(
        kc,
        REALM_FILE_JSON["clientProfiles"]["profiles"],
        REALM_FILE_JSON["clientPolicies"]["policies"],
        direct_grants=False,
    )


def test_a_realm_imported_before_gets_the_password_grant_closed(kc: responses.RequestsMock) -> None:
    """An older realm: another policy of its own (kept), no ROPC policy, admin-cli open."""
    kc.post(MASTER_TOKEN, json={"access_token": "jeton", "expires_in": 300})
    own = {"name": "politique locale", "enabled": True, "conditions": [], "profiles": []}
    _password_grant_calls(kc, [], [own], direct_grants=True)
    kc.put(f"{POLICIES_URL}/profiles", status=204)
    kc.put(f"{POLICIES_URL}/policies", status=204)
    kc.put(f"{CLIENTS_URL}/admin-cli-uuid", status=204)

    provision.close_password_grant(
        provision.admin_client(KEYCLOAK_URL, "collecte-bootstrap", "secret")
    )

    profiles, policies, client = (
        json.loads(str(c.request.body)) for c in kc.calls if c.request.method == "PUT"
    )
    assert profiles == {"profiles": REALM_FILE_JSON["clientProfiles"]["profiles"]}
    assert policies == {"policies": [own, *REALM_FILE_JSON["clientPolicies"]["policies"]]}
    assert client["clientId"] == "admin-cli" and client["directAccessGrantsEnabled"] is False


def test_a_closed_realm_is_left_as_it_is(kc: responses.RequestsMock) -> None:
    kc.post(MASTER_TOKEN, json={"access_token": "jeton", "expires_in": 300})
    _closed_realm_calls(kc)
    provision.close_password_grant(
        provision.admin_client(KEYCLOAK_URL, "collecte-bootstrap", "secret")
    )
    assert [c for c in kc.calls if c.request.method != "GET"][1:] == []


CLAIMS_SCOPE = {"id": "scope-uuid", "name": "perimetres-collecte"}


def _claims_scope_present(kc: responses.RequestsMock) -> None:
    kc.get(f"{ADMIN_REALM_URL}/client-scopes", json=[CLAIMS_SCOPE])
    kc.get(f"{ADMIN_REALM_URL}/default-optional-client-scopes", json=[CLAIMS_SCOPE])


def _provisioning_calls(
    kc: responses.RequestsMock, realm_attributes: dict[str, str], expect_put: bool
) -> None:
    kc.post(MASTER_TOKEN, json={"access_token": "jeton", "expires_in": 300})
    _closed_realm_calls(kc)
    _claims_scope_present(kc)
    kc.put(f"{ADMIN_REALM_URL}/users/profile", json={})
    kc.put(f"{ADMIN_REALM_URL}/localization/fr/termsText", status=204)
    kc.get(ADMIN_REALM_URL, json={"realm": "collecte", "attributes": realm_attributes})
    if expect_put:
        kc.put(ADMIN_REALM_URL, status=204)


def test_provisioning_writes_the_text_then_the_version_keeping_the_other_attributes(
    kc: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLECTE_CGU_VERSION", "2027-03")
    _provisioning_calls(kc, {"cguVersion": "2026-11", "frontendUrl": ""}, expect_put=True)

    provision.provision(provision.admin_client(KEYCLOAK_URL, "collecte-bootstrap", "secret"))

    writes = [(c.request.method, c.request.url) for c in kc.calls if c.request.method == "PUT"]
    assert writes == [
        ("PUT", f"{ADMIN_REALM_URL}/users/profile"),
        ("PUT", f"{ADMIN_REALM_URL}/localization/fr/termsText"),
        ("PUT", ADMIN_REALM_URL),
    ]
    profile, text, realm = (c.request.body for c in kc.calls if c.request.method == "PUT")
    assert json.loads(str(profile)) == json.loads(USER_PROFILE_FILE.read_text("utf-8"))
    assert isinstance(text, bytes) and text.decode("utf-8") == CGU_FILE.read_text("utf-8")
    # Keycloak drops the realm attributes a PUT leaves out: all of them go back.
    assert json.loads(str(realm)) == {"attributes": {"cguVersion": "2027-03", "frontendUrl": ""}}


def test_an_unchanged_version_is_not_written_again(
    kc: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLECTE_CGU_VERSION", "2026-11")
    _provisioning_calls(kc, {"cguVersion": "2026-11"}, expect_put=False)
    provision.provision(provision.admin_client(KEYCLOAK_URL, "collecte-bootstrap", "secret"))
    assert [c.request.url for c in kc.calls if c.request.method == "PUT"][-1].endswith("termsText")


def test_an_invalid_version_writes_nothing(
    kc: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLECTE_CGU_VERSION", "pas valable")
    with pytest.raises(ValueError):
        provision.provision(provision.admin_client(KEYCLOAK_URL, "collecte-bootstrap", "secret"))
    assert not kc.calls


def test_a_realm_imported_before_gets_the_claims_scope_as_an_optional_scope(
    kc: responses.RequestsMock,
) -> None:
    """The client scope of the claims comes from the realm file, then joins the realm's optional
    client scopes (clients made later get it)."""
    kc.post(MASTER_TOKEN, json={"access_token": "jeton", "expires_in": 300})
    scopes = f"{ADMIN_REALM_URL}/client-scopes"
    kc.get(scopes, json=[{"id": "p", "name": "profile"}])
    kc.post(scopes, status=201, headers={"Location": f"{scopes}/scope-uuid"})
    kc.get(f"{ADMIN_REALM_URL}/default-optional-client-scopes", json=[])
    kc.put(f"{ADMIN_REALM_URL}/default-optional-client-scopes/scope-uuid", status=204)

    provision.ensure_claims_scope(
        provision.admin_client(KEYCLOAK_URL, "collecte-bootstrap", "secret")
    )

    [created] = [
        json.loads(str(c.request.body))
        for c in kc.calls
        if c.request.url == scopes and c.request.method == "POST"
    ]
    assert created == next(
        s for s in REALM_FILE_JSON["clientScopes"] if s["name"] == "perimetres-collecte"
    )


def test_a_realm_with_the_claims_scope_is_left_as_it_is(kc: responses.RequestsMock) -> None:
    kc.post(MASTER_TOKEN, json={"access_token": "jeton", "expires_in": 300})
    _claims_scope_present(kc)
    provision.ensure_claims_scope(
        provision.admin_client(KEYCLOAK_URL, "collecte-bootstrap", "secret")
    )
    assert [c for c in kc.calls if c.request.method != "GET"][1:] == []
