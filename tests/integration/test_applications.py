"""The registration command against the real Keycloak: what it makes, read back; a second run
changes nothing; a wildcard is refused; the realm's refusals hold for the client it makes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from collecte_kc import applications
from collecte_kc.applications import (
    MARKER_ATTRIBUTE,
    PERIMETERS_SCOPE,
    Application,
    ForeignClient,
    application,
    register,
)
from tests.helpers.realm_data import fresh_siren
from tests.helpers.relying_party import audiences, jwt_claims
from tests.helpers.signin import REDIRECT_URI, SigninClient, password_grant, sign_in

pytestmark = pytest.mark.keycloak

PASSWORD = "Essai-Application-2026!"  # test set-up only


def _app(**overrides: Any) -> Application:
    values: dict[str, Any] = {
        "name": "Application de collecte (essai)",
        "client_id": f"application-essai-{uuid.uuid4().hex[:8]}",
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": ["http://127.0.0.1:9/"],
        "backchannel_logout_url": "http://127.0.0.1:9/deconnexion-canal-arriere",
    }
    values.update(overrides)
    return application(**values)


@pytest.fixture
def registered(platform: Any) -> Iterator[Callable[[Application], applications.Registration]]:
    """Registers with the command; deletes the clients made at the end of the test."""
    made: list[str] = []

    def run(app: Application) -> applications.Registration:
        outcome = register(platform.admin, app)
        made.append(outcome.uuid)
        return outcome

    yield run
    for client_uuid in dict.fromkeys(made):
        platform.admin.delete_client(client_uuid)


def _everything(platform: Any, client_uuid: str) -> dict[str, Any]:
    """The client as Keycloak holds it, with its mappers and scopes (what a run may change)."""
    admin = platform.admin
    client = admin.get_client(client_uuid)
    return {
        "client": {k: v for k, v in client.items() if k != "protocolMappers"},
        "mappers": sorted(
            json.dumps(m, sort_keys=True) for m in admin.get_mappers_from_client(client_uuid)
        ),
        "default": sorted(s["name"] for s in admin.get_client_default_client_scopes(client_uuid)),
        "optional": sorted(s["name"] for s in admin.get_client_optional_client_scopes(client_uuid)),
    }


def _realm_has_perimeters_scope(platform: Any) -> bool:
    return PERIMETERS_SCOPE in {s["name"] for s in platform.admin.get_client_scopes()}


def test_the_client_is_made_as_asked_and_a_second_run_changes_nothing(platform, registered):
    app = _app()
    first = registered(app)
    assert first.created
    state = _everything(platform, first.uuid)
    client = state["client"]
    assert client["clientId"] == app.client_id and client["name"] == app.name
    assert client["publicClient"] is False and client["clientAuthenticatorType"] == "client-secret"
    assert client["standardFlowEnabled"] is True
    assert client["implicitFlowEnabled"] is False
    assert client["directAccessGrantsEnabled"] is False
    assert client["serviceAccountsEnabled"] is False
    assert client["consentRequired"] is False
    assert client["frontchannelLogout"] is False
    assert client["fullScopeAllowed"] is False
    assert client["redirectUris"] == [REDIRECT_URI]
    attributes = client["attributes"]
    assert attributes["pkce.code.challenge.method"] == "S256"
    assert attributes["backchannel.logout.url"] == app.backchannel_logout_url
    assert attributes["backchannel.logout.session.required"] == "true"
    assert attributes["post.logout.redirect.uris"] == "http://127.0.0.1:9/"
    assert attributes.get("oauth2.device.authorization.grant.enabled", "false") == "false"
    assert attributes.get("oidc.ciba.grant.enabled", "false") == "false"
    assert attributes[MARKER_ATTRIBUTE] == "true"
    [audience] = [json.loads(m) for m in state["mappers"]]
    assert audience["protocolMapper"] == "oidc-audience-mapper"
    assert audience["config"]["included.client.audience"] == app.client_id
    assert audience["config"]["access.token.claim"] == "true"
    assert {"basic", "profile", "email"} <= set(state["default"])
    wanted_optional = [PERIMETERS_SCOPE] if _realm_has_perimeters_scope(platform) else []
    assert state["optional"] == wanted_optional  # no offline_access, phone, address…

    second = registered(app)
    assert (second.created, second.changes) == (False, [])
    assert _everything(platform, first.uuid) == state

    changed = _app(
        client_id=app.client_id,
        redirect_uris=[REDIRECT_URI, "http://127.0.0.1:9/autre-retour"],
    )
    third = registered(changed)
    assert third.changes == ["redirectUris"]
    client = platform.admin.get_client(first.uuid)
    assert sorted(client["redirectUris"]) == sorted(changed.redirect_uris)
    assert registered(changed).changes == []


def test_a_wildcard_is_refused_and_nothing_is_made(platform, capsys, monkeypatch):
    monkeypatch.setenv(
        "COLLECTE_BOOTSTRAP_CLIENT_SECRET", platform.keycloak.bootstrap_client_secret
    )
    client_id = f"application-essai-{uuid.uuid4().hex[:8]}"
    argv = [
        "--url",
        platform.keycloak_url,
        "enregistrer-application",
        "--nom",
        "Joker",
        "--client-id",
        client_id,
        "--redirection",
        "https://collecte.exemple.fr/*",
    ]
    with pytest.raises(SystemExit) as exited:
        applications.main(argv)
    assert exited.value.code == 2
    assert "sans caractère générique" in capsys.readouterr().err
    assert platform.admin.get_client_id(client_id) is None


def test_the_command_prints_the_client_id_and_where_the_secret_is(
    platform, registered, capsys, monkeypatch
):
    monkeypatch.setenv(
        "COLLECTE_BOOTSTRAP_CLIENT_SECRET", platform.keycloak.bootstrap_client_secret
    )
    client_id = f"application-essai-{uuid.uuid4().hex[:8]}"
    base = ["--url", platform.keycloak_url]
    try:
        applications.main(
            [
                *base,
                "enregistrer-application",
                "--nom",
                "Essai",
                "--client-id",
                client_id,
                "--redirection",
                REDIRECT_URI,
            ]
        )
        printed = capsys.readouterr().out
        applications.main([*base, "secret", client_id])
        secret = capsys.readouterr().out.strip()
    finally:
        client_uuid = platform.admin.get_client_id(client_id)
        if client_uuid:
            platform.admin.delete_client(client_uuid)
    assert f"client_id : {client_id}" in printed and f"secret {client_id}" in printed
    assert secret and secret not in printed


def test_the_portal_client_is_never_overwritten(platform):
    before = platform.admin.get_client(platform.admin.get_client_id("collecte-portail"))
    with pytest.raises(ForeignClient):
        register(platform.admin, _app(client_id="collecte-portail"))
    assert platform.admin.get_client(before["id"]) == before


def test_tokens_name_the_application_and_the_password_grant_is_refused(
    platform, registered, activated_person, adherent
):
    """A collection contact signs in through the client: `aud` of the access token is the
    application (the audience mapper). The password grant, sent with the client's secret, is
    refused; and the realm's client policy keeps anyone from turning it on for this client."""
    app = _app()
    outcome = registered(app)
    secret = platform.admin.get_client_secrets(outcome.uuid)["value"]
    email = activated_person(PASSWORD, collecte=[f"{adherent(fresh_siren())}/1"])
    tokens = sign_in(
        platform.keycloak_url, SigninClient(app.client_id, outcome.uuid, secret), email, PASSWORD
    )
    access = jwt_claims(tokens["access_token"])
    assert app.client_id in audiences(access)
    assert "realm_access" not in access  # no role of the person reaches the application
    # lifetimes of the integration guide: access token 5 min (Keycloak's default, the realm file
    # sets none), refresh token as long as the session may stay idle (ssoSessionIdleTimeout)
    assert access["exp"] - access["iat"] == 300
    refresh = jwt_claims(tokens["refresh_token"])
    assert refresh["exp"] - refresh["iat"] == 1800
    assert audiences(jwt_claims(tokens["id_token"])) == [app.client_id]

    refused = password_grant(platform.keycloak_url, app.client_id, email, PASSWORD, secret)
    assert refused.status_code == 400 and "access_token" not in refused.text
    assert refused.json()["error"] == "unauthorized_client", refused.text

    client = platform.admin.get_client(outcome.uuid)
    response = platform.admin.connection.raw_put(
        f"admin/realms/collecte/clients/{outcome.uuid}",
        data=json.dumps({**client, "directAccessGrantsEnabled": True}),
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_client_metadata"
    assert platform.admin.get_client(outcome.uuid)["directAccessGrantsEnabled"] is False


def test_the_discovery_document_is_where_the_command_says(platform):
    url = applications.discovery_url(platform.keycloak_url)
    document = requests.get(url, timeout=10).json()
    assert document["issuer"] == f"{platform.keycloak_url}/realms/collecte"
    assert "S256" in document["code_challenge_methods_supported"]
    assert document["backchannel_logout_session_supported"] is True


def test_keycloak_sends_the_code_only_to_an_exact_registered_address(platform, registered):
    """No wildcard, so Keycloak compares the whole address: a longer path, another port or a
    sibling path gets its error page, never a redirect carrying a code."""
    app = _app()
    registered(app)
    auth = f"{platform.keycloak_url}/realms/collecte/protocol/openid-connect/auth"
    for redirect in (
        REDIRECT_URI + "/../evil",
        REDIRECT_URI + "x",
        "http://127.0.0.1:10/connexion-essai",
    ):
        answer = authorization_request(auth, app.client_id, redirect)
        assert answer.status_code == 400 and "Location" not in answer.headers, redirect
    accepted = authorization_request(auth, app.client_id, REDIRECT_URI)
    assert accepted.status_code == 200 and 'id="kc-form-login"' in accepted.text


def test_a_sign_in_without_pkce_is_refused(platform, registered):
    app = _app()
    registered(app)
    answer = requests.get(
        f"{platform.keycloak_url}/realms/collecte/protocol/openid-connect/auth",
        params={
            "client_id": app.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid",
        },
        allow_redirects=False,
        timeout=10,
    )
    location = answer.headers.get("Location", "")
    assert location.startswith(REDIRECT_URI) and "error=invalid_request" in location, location
    assert "code" not in parse_qs(urlsplit(location).query)


def authorization_request(auth: str, client_id: str, redirect_uri: str) -> requests.Response:
    """A code-flow authorization request with PKCE (S256), as an application sends it."""
    return requests.get(
        auth,
        params={
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=10,
    )
