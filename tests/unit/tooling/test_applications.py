"""Registering an application (`collecte_kc.applications`) without a server: validation, what is
sent to the Admin API, idempotence (tests/integration/test_applications.py reads the result back
from the real Keycloak)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from collecte_kc import applications
from collecte_kc.applications import (
    MARKER_ATTRIBUTE,
    PERIMETERS_SCOPE,
    Application,
    ForeignClient,
    InvalidArgument,
    application,
    register,
    wanted_client,
)
from collecte_kc.provision import admin_client
from tests.helpers.settings import ADMIN_REALM_URL, KEYCLOAK_URL

MASTER_TOKEN = f"{KEYCLOAK_URL}/realms/master/protocol/openid-connect/token"
CLIENTS = f"{ADMIN_REALM_URL}/clients"
UUID = "0d6f3c7e-0000-4000-8000-00000000a11c"
CLIENT = f"{CLIENTS}/{UUID}"
APP = application(
    "Application de collecte",
    "application-collecte",
    ["https://collecte.exemple.fr/oauth2/callback"],
    ["https://collecte.exemple.fr/"],
    "https://collecte.exemple.fr/backchannel-logout",
)
SCOPES = [{"id": "id-role_list", "name": "role_list", "protocol": "saml"}] + [
    {"id": f"id-{name}", "name": name, "protocol": "openid-connect"}
    for name in (
        "acr",
        "address",
        "basic",
        "email",
        "offline_access",
        "phone",
        "profile",
        "roles",
        "web-origins",
        PERIMETERS_SCOPE,
    )
]
REALM_DEFAULTS = ["acr", "basic", "email", "profile", "roles", "web-origins"]
#: Keycloak 26's realm default scopes also name SAML scopes, never attached to an OIDC client.
REALM_DEFAULT_SCOPES = [*REALM_DEFAULTS, "role_list"]


def _scopes(names: list[str]) -> list[dict[str, str]]:
    return [{"id": f"id-{name}", "name": name} for name in names]


def _admin() -> Any:
    return admin_client(KEYCLOAK_URL, "collecte-bootstrap", "secret")


def _token(kc: responses.RequestsMock) -> None:
    kc.post(MASTER_TOKEN, json={"access_token": "jeton", "expires_in": 300})


def _registered(app: Application = APP) -> dict[str, Any]:
    """The client as Keycloak returns it once registered (plus fields Keycloak adds)."""
    client = wanted_client(app)
    return {
        **client,
        "id": UUID,
        "secret": "ne-doit-pas-bouger",
        "surrogateAuthRequired": False,
        "attributes": {**client["attributes"], "client.secret.creation.time": "1764550000"},
    }


def _reads(
    kc: responses.RequestsMock,
    client: dict[str, Any] | None,
    mappers: list[dict[str, Any]],
    defaults: list[str],
    optional: list[str],
    scopes: list[dict[str, str]] = SCOPES,
) -> None:
    kc.get(CLIENTS, json=[client] if client else [])
    if client:
        kc.get(CLIENT, json=client)
    kc.get(f"{CLIENT}/protocol-mappers/models", json=mappers)
    kc.get(f"{ADMIN_REALM_URL}/client-scopes", json=scopes)
    kc.get(f"{ADMIN_REALM_URL}/default-default-client-scopes", json=_scopes(REALM_DEFAULT_SCOPES))
    kc.get(f"{CLIENT}/default-client-scopes", json=_scopes(defaults))
    kc.get(f"{CLIENT}/optional-client-scopes", json=_scopes(optional))


def _writes(kc: responses.RequestsMock) -> list[tuple[str, str]]:
    return [
        (str(c.request.method), str(c.request.url).removeprefix(ADMIN_REALM_URL))
        for c in kc.calls
        if c.request.method != "GET" and "/admin/" in str(c.request.url)
    ]


AUDIENCE = {"id": "mapper-1", **applications.audience_mapper("application-collecte")}


# --- validation: nothing is sent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("uris", "message"),
    [
        (["https://collecte.exemple.fr/*"], "sans caractère générique"),
        (["https://*.exemple.fr/callback"], "sans caractère générique"),
        (["*"], "sans caractère générique"),
        (["/oauth2/callback"], "n'est pas une adresse absolue"),
        (["+"], "n'est pas une adresse absolue"),
        (["http://collecte.exemple.fr/callback"], "doit être en https"),
        (["https://collecte.exemple.fr/callback#x"], "fragment"),
        ([], "au moins une adresse"),
    ],
)
def test_redirects_must_be_exact_absolute_and_https(uris: list[str], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        application("Appli", "appli-collecte", uris)


def test_a_wildcard_after_logout_is_refused_too() -> None:
    with pytest.raises(InvalidArgument, match=r"--redirection-apres-deconnexion.*sans caractère"):
        application("Appli", "appli-collecte", ["https://a.fr/cb"], ["https://a.fr/*"])


def test_loopback_may_use_http_and_backchannel_any_http_host() -> None:
    app = application(
        "Appli",
        "appli-collecte",
        ["http://127.0.0.1:4180/oauth2/callback", "http://localhost:5001/auth/callback"],
        backchannel_logout_url="http://appli.interne:8000/deconnexion",
    )
    assert app.redirect_uris[0] == "http://127.0.0.1:4180/oauth2/callback"
    assert app.backchannel_logout_url == "http://appli.interne:8000/deconnexion"


@pytest.mark.parametrize("client_id", ["AB", "Appli", "appli collecte", "appli/x", "a" * 64])
def test_client_id_is_checked(client_id: str) -> None:
    with pytest.raises(InvalidArgument, match="Identifiant de client invalide"):
        application("Appli", client_id, ["https://a.fr/cb"])


def test_the_command_refuses_a_wildcard_in_french_before_any_call(
    kc: responses.RequestsMock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLECTE_BOOTSTRAP_CLIENT_SECRET", "secret")
    argv = [
        "--url",
        KEYCLOAK_URL,
        "enregistrer-application",
        "--nom",
        "Appli",
        "--client-id",
        "appli-collecte",
        "--redirection",
        "https://appli.exemple.fr/*",
    ]
    with pytest.raises(SystemExit) as exited:
        applications.main(argv)
    assert exited.value.code == 2
    assert "sans caractère générique" in capsys.readouterr().err
    assert not kc.calls


# --- what the registration writes ------------------------------------------------------------


def test_a_new_application_gets_a_confidential_code_flow_client(kc: responses.RequestsMock) -> None:
    _token(kc)
    kc.get(CLIENTS, json=[])
    kc.post(CLIENTS, status=201, headers={"Location": f"{CLIENTS}/{UUID}"})
    # Keycloak attaches the realm's default and optional scopes to a new client by itself.
    _reads_after_creation = [*REALM_DEFAULTS]
    kc.get(f"{CLIENT}/protocol-mappers/models", json=[])
    kc.post(f"{CLIENT}/protocol-mappers/models", status=201)
    kc.get(f"{ADMIN_REALM_URL}/client-scopes", json=SCOPES)
    kc.get(f"{ADMIN_REALM_URL}/default-default-client-scopes", json=_scopes(REALM_DEFAULT_SCOPES))
    kc.get(f"{CLIENT}/default-client-scopes", json=_scopes(_reads_after_creation))
    kc.get(f"{CLIENT}/optional-client-scopes", json=_scopes(["offline_access", "phone"]))
    for name in ("offline_access", "phone", PERIMETERS_SCOPE):
        method = kc.put if name == PERIMETERS_SCOPE else kc.delete
        method(f"{CLIENT}/optional-client-scopes/id-{name}", status=204)

    outcome = register(_admin(), APP)

    assert outcome.created and outcome.uuid == UUID and outcome.changes == []
    assert outcome.warnings == []
    sent = json.loads(str(kc.calls[2].request.body))
    assert sent["clientId"] == "application-collecte"
    assert sent["publicClient"] is False and sent["standardFlowEnabled"] is True
    assert sent["directAccessGrantsEnabled"] is False
    assert sent["implicitFlowEnabled"] is False and sent["serviceAccountsEnabled"] is False
    assert sent["consentRequired"] is False and sent["frontchannelLogout"] is False
    assert sent["redirectUris"] == ["https://collecte.exemple.fr/oauth2/callback"]
    assert "secret" not in sent  # Keycloak generates it
    attributes = sent["attributes"]
    assert attributes["pkce.code.challenge.method"] == "S256"
    assert attributes["backchannel.logout.url"] == "https://collecte.exemple.fr/backchannel-logout"
    assert attributes["backchannel.logout.session.required"] == "true"
    assert attributes["post.logout.redirect.uris"] == "https://collecte.exemple.fr/"
    assert attributes["oauth2.device.authorization.grant.enabled"] == "false"
    assert attributes[MARKER_ATTRIBUTE] == "true"
    mapper = json.loads(str(kc.calls[4].request.body))
    assert mapper["protocolMapper"] == "oidc-audience-mapper"
    assert mapper["config"]["included.client.audience"] == "application-collecte"
    assert mapper["config"]["access.token.claim"] == "true"
    assert mapper["config"]["id.token.claim"] == "true"
    assert _writes(kc)[-3:] == [
        ("DELETE", f"/clients/{UUID}/optional-client-scopes/id-offline_access"),
        ("DELETE", f"/clients/{UUID}/optional-client-scopes/id-phone"),
        ("PUT", f"/clients/{UUID}/optional-client-scopes/id-{PERIMETERS_SCOPE}"),
    ]


def test_a_second_run_writes_nothing(kc: responses.RequestsMock) -> None:
    _token(kc)
    _reads(kc, _registered(), [AUDIENCE], REALM_DEFAULTS, [PERIMETERS_SCOPE])
    outcome = register(_admin(), APP)
    assert not outcome.created and outcome.changes == []
    assert _writes(kc) == []


def test_a_changed_input_is_written_keeping_what_keycloak_holds(
    kc: responses.RequestsMock,
) -> None:
    _token(kc)
    _reads(kc, _registered(), [AUDIENCE], REALM_DEFAULTS, [PERIMETERS_SCOPE])
    kc.put(CLIENT, status=204)
    changed = application(
        "Application de collecte",
        "application-collecte",
        ["https://collecte.exemple.fr/oauth2/callback", "https://collecte.exemple.fr/cb2"],
        ["https://collecte.exemple.fr/"],
        "https://collecte.exemple.fr/backchannel-logout",
    )
    outcome = register(_admin(), changed)
    assert outcome.changes == ["redirectUris"]
    [put] = [c for c in kc.calls if c.request.method == "PUT"]
    body = json.loads(str(put.request.body))
    assert body["redirectUris"] == list(changed.redirect_uris)
    assert body["secret"] == "ne-doit-pas-bouger"
    assert body["attributes"]["client.secret.creation.time"] == "1764550000"


def test_a_client_opened_by_hand_is_closed_again(kc: responses.RequestsMock) -> None:
    """Someone enabled the password grant and implicit flow in the console, detached the
    audience mapper's access-token claim and the perimeters scope: one run puts it all back."""
    _token(kc)
    opened = _registered()
    opened.update(directAccessGrantsEnabled=True, implicitFlowEnabled=True)
    opened["attributes"] = {**opened["attributes"], "pkce.code.challenge.method": ""}
    broken = {**AUDIENCE, "config": {**AUDIENCE["config"], "access.token.claim": "false"}}
    _reads(kc, opened, [broken], [*REALM_DEFAULTS, "phone"], [])
    kc.put(CLIENT, status=204)
    kc.put(f"{CLIENT}/protocol-mappers/models/mapper-1", status=204)
    kc.delete(f"{CLIENT}/default-client-scopes/id-phone", status=204)
    kc.put(f"{CLIENT}/optional-client-scopes/id-{PERIMETERS_SCOPE}", status=204)

    outcome = register(_admin(), APP)

    assert outcome.changes == [
        "implicitFlowEnabled",
        "directAccessGrantsEnabled",
        "attributes.pkce.code.challenge.method",
        "mappeur d'audience corrigé",
        "portée défaut retirée : phone",
        f"portée facultative ajoutée : {PERIMETERS_SCOPE}",
    ]
    body = json.loads(str(kc.calls[3].request.body))
    assert body["directAccessGrantsEnabled"] is False and body["implicitFlowEnabled"] is False


def test_a_client_not_made_by_the_command_is_never_touched(kc: responses.RequestsMock) -> None:
    _token(kc)
    portal = {"id": UUID, "clientId": "collecte-portail", "attributes": {}}
    kc.get(CLIENTS, json=[portal])
    kc.get(CLIENT, json=portal)
    with pytest.raises(ForeignClient, match="n'a pas été enregistré par cette commande"):
        register(
            _admin(), application("Portail", "collecte-portail", ["https://portail.fr/callback"])
        )
    assert _writes(kc) == []


def test_without_the_perimeters_scope_the_command_warns_in_french(
    kc: responses.RequestsMock,
) -> None:
    _token(kc)
    without = [s for s in SCOPES if s["name"] != PERIMETERS_SCOPE]
    _reads(kc, _registered(), [AUDIENCE], REALM_DEFAULTS, [], scopes=without)
    outcome = register(_admin(), APP)
    assert outcome.changes == []
    assert any(f"« {PERIMETERS_SCOPE} » n'existe pas" in w for w in outcome.warnings)


def test_the_report_says_where_the_secret_is_never_the_secret(kc: responses.RequestsMock) -> None:
    _token(kc)
    _reads(kc, _registered(), [AUDIENCE], REALM_DEFAULTS, [PERIMETERS_SCOPE])
    outcome = register(_admin(), APP)
    text = applications.report(outcome, APP, KEYCLOAK_URL)
    assert "client_id : application-collecte" in text
    assert "déjà à jour, rien n'a changé" in text
    assert "secret application-collecte" in text
    assert f"/admin/master/console/#/collecte/clients/{UUID}/credentials" in text
    assert "ne-doit-pas-bouger" not in text


def test_secret_prints_the_secret_from_the_admin_api(
    kc: responses.RequestsMock, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLECTE_BOOTSTRAP_CLIENT_SECRET", "secret")
    _token(kc)
    kc.get(CLIENTS, json=[_registered()])
    kc.get(f"{CLIENT}/client-secret", json={"type": "secret", "value": "le-secret"})
    applications.main(["--url", KEYCLOAK_URL, "secret", "application-collecte"])
    assert capsys.readouterr().out == "le-secret\n"
