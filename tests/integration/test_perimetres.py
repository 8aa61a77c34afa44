"""The claims an application reads (issue 11): `perimetres` and `version_cgu`, computed by
Keycloak with the platform's one authority rule (`Perimeters`, Java twin of
portal/core/authority.py),
in the ID token and at userinfo when the client asks for the scope `perimetres-collecte`; and the
sign-in that follows the same rule (a `collecte` value without the adherent's group opens no
session). Tokens come from the real login form (tests/helpers/signin.py), on a client made by the
test: new clients get the realm's optional scope `perimetres-collecte`."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from portal.core.domain import Change, Scope
from portal.core.keycloak.gateway import KeycloakGateway
from tests.helpers.platform import ensure_adherents, join_adherents
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import SigninClient, SignInRefused, refresh, sign_in, signin_client

PASSWORD = "Essai-Perimetres-2026!"  # test set-up only: the product never sets a password
WITH_CLAIMS = "openid perimetres-collecte"
REFUSAL = "n'est pas identifiée comme celle d'un interlocuteur de collecte"


@dataclass(frozen=True)
class Person:
    id: str
    email: str


@pytest.fixture
def client(platform: Any) -> Iterator[SigninClient]:
    with signin_client(platform.admin) as made:
        yield made


def _person(
    platform: Any,
    attributes: dict[str, list[str]],
    joined: list[str],
    terms_pending: bool = False,
) -> Person:
    """A person with these function values, member of the adherent group of each SIREN of
    `joined` (made in /GRP-ESSAI when missing), with a password (test set-up)."""
    admin = platform.admin
    email = f"perimetres-{uuid.uuid4().hex[:10]}@exemple-perimetres.fr"
    person_id = str(
        admin.create_user(
            {
                "email": email,
                "firstName": "Alix",
                "lastName": "Périmètre",
                "enabled": True,
                "attributes": attributes,
            }
        )
    )
    ensure_adherents(platform, joined)
    join_adherents(platform, person_id, joined)
    admin.set_user_password(person_id, PASSWORD, temporary=False)
    actions = ["TERMS_AND_CONDITIONS"] if terms_pending else []
    admin.update_user(person_id, {"requiredActions": actions, "emailVerified": True})
    return Person(person_id, email)


def _claims(jwt: str) -> dict[str, Any]:
    """The payload of a token Keycloak just issued to us over the back channel (read, not
    verified: the test checks what Keycloak put there)."""
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _userinfo(platform: Any, tokens: dict[str, Any]) -> dict[str, Any]:
    response = requests.get(
        f"{platform.keycloak_url}/realms/collecte/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    response.raise_for_status()
    return dict(response.json())


def _perimeter(siren: str, lot: str, name: str, principal: bool = False) -> dict[str, Any]:
    return {"siren": siren, "lot": lot, "raisonSociale": name, "principal": principal}


def test_a_collection_contact_gets_exactly_their_perimeters_and_cgu_version(
    platform, client, adherent, gateway
):
    first, second = sorted([fresh_siren(), fresh_siren()])
    adherent(first, "Commune de Premier-Essai", ("1", "2"))
    adherent(second, "Syndicat du Second-Essai", ("1", "2", "3"))
    person = _person(
        platform,
        {"collecte": [f"{second}/3", f"{first}/1"]},
        joined=[f"{first}/1", f"{second}/3"],
        terms_pending=True,
    )
    assert gateway.ensure_principal(Scope(first, "1"), person.id)

    tokens = sign_in(
        platform.keycloak_url, client, person.email, PASSWORD, scope=WITH_CLAIMS, accept_terms=True
    )

    version = platform.admin.get_realm("collecte")["attributes"]["cguVersion"]
    expected = [
        _perimeter(first, "1", "Commune de Premier-Essai", principal=True),
        _perimeter(second, "3", "Syndicat du Second-Essai"),
    ]
    id_token = _claims(tokens["id_token"])
    assert id_token["perimetres"] == expected
    assert id_token["version_cgu"] == version
    userinfo = _userinfo(platform, tokens)
    assert userinfo["perimetres"] == expected
    assert userinfo["version_cgu"] == version
    # the access token, carried by every API call, stays small
    access = _claims(tokens["access_token"])
    assert "perimetres" not in access and "version_cgu" not in access
    assert "perimetres-collecte" in access["scope"].split()


def test_technical_and_billing_functions_never_appear(platform, client):
    own, technical, billing = fresh_siren(), fresh_siren(), fresh_siren()
    person = _person(
        platform,
        {
            "collecte": [f"{own}/1"],
            "technique": [f"{technical}/1"],
            "facturation": [f"{billing}/2"],
        },
        joined=[f"{own}/1", f"{technical}/1", f"{billing}/2"],
    )
    tokens = sign_in(platform.keycloak_url, client, person.email, PASSWORD, scope=WITH_CLAIMS)

    for claims in (_claims(tokens["id_token"]), _userinfo(platform, tokens)):
        assert claims["perimetres"] == [_perimeter(own, "1", "Commune d'Essai")]
        text = json.dumps(claims)
        assert technical not in text and billing not in text
        # no CGU accepted through Keycloak's page (set-up skipped it): no version claimed
        assert "version_cgu" not in claims


def test_a_value_without_the_group_or_the_lot_gives_no_perimeter(platform, client, adherent):
    """Attack 1 of issue 9, relying-party side: a value a coordinator of another groupement could
    write (no membership of the adherent's group), and a lot the adherent does not have."""
    own, foreign, lotless = fresh_siren(), adherent(fresh_siren()), fresh_siren()
    adherent(lotless, "Commune Sans-Lot-Trois", ("1",))
    person = _person(
        platform,
        {"collecte": [f"{own}/1", f"{foreign}/1", f"{lotless}/3"]},
        joined=[f"{own}/1", f"{lotless}/1"],
    )
    tokens = sign_in(platform.keycloak_url, client, person.email, PASSWORD, scope=WITH_CLAIMS)

    assert _claims(tokens["id_token"])["perimetres"] == [_perimeter(own, "1", "Commune d'Essai")]
    assert _userinfo(platform, tokens)["perimetres"] == [_perimeter(own, "1", "Commune d'Essai")]


@pytest.mark.parametrize("case", ["sans le groupe de l'adhérent", "lot absent de l'adhérent"])
def test_with_no_perimeter_at_all_the_sign_in_is_refused(platform, client, adherent, case):
    """Before: a `collecte` value alone opened a session (Keycloak's attribute condition)."""
    siren = adherent(fresh_siren(), "Commune Refus", ("1",))
    if case == "sans le groupe de l'adhérent":
        person = _person(platform, {"collecte": [f"{siren}/1"]}, joined=[])
    else:
        person = _person(platform, {"collecte": [f"{siren}/2"]}, joined=[f"{siren}/1"])

    with pytest.raises(SignInRefused) as refused:
        sign_in(platform.keycloak_url, client, person.email, PASSWORD)

    assert REFUSAL in str(refused.value), case
    assert platform.admin.get_sessions(person.id) == []


def test_support_removing_functions_shows_at_the_next_refresh_then_ends_the_session(
    platform, client
):
    first, second = sorted([fresh_siren(), fresh_siren()])
    person = _person(
        platform,
        {"collecte": [f"{first}/1", f"{second}/2"]},
        joined=[f"{first}/1", f"{second}/2"],
    )
    tokens = sign_in(platform.keycloak_url, client, person.email, PASSWORD, scope=WITH_CLAIMS)
    assert [p["siren"] for p in _claims(tokens["id_token"])["perimetres"]] == [first, second]
    support = KeycloakGateway.from_config(platform.portal_config)

    support.revoke_collection(
        person.id, Scope(first, "1"), Change.now("support@collecte.test", "retrait")
    )
    refreshed = refresh(platform.keycloak_url, client, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    assert _claims(refreshed.json()["id_token"])["perimetres"] == [
        _perimeter(second, "2", "Commune d'Essai")
    ]

    support.revoke_collection(
        person.id, Scope(second, "2"), Change.now("support@collecte.test", "retrait")
    )
    ended = refresh(platform.keycloak_url, client, refreshed.json()["refresh_token"])
    assert ended.status_code == 400, ended.text
    assert ended.json()["error"] == "invalid_grant"
    assert platform.admin.get_sessions(person.id) == []


def test_a_client_that_does_not_ask_for_the_scope_gets_no_claims(platform, client):
    siren = fresh_siren()
    person = _person(platform, {"collecte": [f"{siren}/1"]}, joined=[f"{siren}/1"])
    tokens = sign_in(platform.keycloak_url, client, person.email, PASSWORD)

    for claims in (_claims(tokens["id_token"]), _userinfo(platform, tokens)):
        assert "perimetres" not in claims and "version_cgu" not in claims
        assert siren not in json.dumps(claims)


def test_an_api_reads_the_claims_by_introspection(platform, adherent):
    """The access token does not carry them; an API holding it asks Keycloak (introspection,
    with its own client credentials) and gets the same claims as the ID token. Keycloak 26.7.3
    answers only to a client in the token's audience (else `active: false`, « not in the token
    audience »): the test client gets the audience mapper a registered application has."""
    siren = adherent(fresh_siren(), "Commune Introspection", ("1",))
    person = _person(platform, {"collecte": [f"{siren}/1"]}, joined=[f"{siren}/1"])
    with signin_client(platform.admin, confidential=True) as confidential:
        platform.admin.add_mapper_to_client(
            confidential.uuid,
            {
                "name": "audience",
                "protocol": "openid-connect",
                "protocolMapper": "oidc-audience-mapper",
                "config": {
                    "included.client.audience": confidential.client_id,
                    "access.token.claim": "true",
                    "introspection.token.claim": "true",
                },
            },
        )
        tokens = sign_in(
            platform.keycloak_url, confidential, person.email, PASSWORD, scope=WITH_CLAIMS
        )
        answer = requests.post(
            f"{platform.keycloak_url}/realms/collecte/protocol/openid-connect/token/introspect",
            data={"token": tokens["access_token"]},
            auth=(confidential.client_id, str(confidential.secret)),
            timeout=10,
        )
    answer.raise_for_status()
    introspected = answer.json()
    assert introspected["active"] is True
    assert introspected["perimetres"] == [_perimeter(siren, "1", "Commune Introspection")]


def test_the_realm_offers_the_scope_as_optional_beside_keycloaks_own(platform):
    """The realm file defines `perimetres-collecte`: Keycloak's own scopes are still made at
    import (`CreateDefaultClientScopes`), ours is optional (asked for, never given by default),
    and a client made later has it among its optional scopes."""
    admin = platform.admin
    defaults = {s["name"] for s in admin.get_default_default_client_scopes()}
    optional = {s["name"] for s in admin.get_default_optional_client_scopes()}
    assert {"profile", "email", "roles", "web-origins", "basic"} <= defaults
    assert "perimetres-collecte" in optional and "perimetres-collecte" not in defaults
    with signin_client(admin) as made:
        assert "perimetres-collecte" in {
            s["name"] for s in admin.get_client_optional_client_scopes(made.uuid)
        }
        assert "perimetres-collecte" not in {
            s["name"] for s in admin.get_client_default_client_scopes(made.uuid)
        }
