"""No token, by any client or grant, for whoever may not sign in (issue 9, attack 4).

Only collection contacts (a `collecte` value) and staff (role `equipe-plateforme`) may hold a
Keycloak session. The browser and reset flows refuse the others; the password grant (ROPC) used to
bypass them through `admin-cli`. Now two layers, each shown to hold on its own:

1. the realm's client policy « aucun octroi par mot de passe » (executor `reject-ropc-grant`, any
   client): no client may enable the password grant, and a client that has it anyway (made while
   the policy is lifted) gets its requests refused; `admin-cli` and the portal have it off;
2. the direct-grant flow « octroi direct collecte » refuses the same people as the browser flow,
   shown with the client policy lifted for the test.

Passwords are set here by the bootstrap admin (test set-up; the product never does it), and each
password grant is sent correctly (with the client's secret), so that a refusal is the realm's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from collecte_kc.coordinators import Coordinator, add_groupement
from portal.core.keycloak.schema import COORDINATOR_ROLE
from tests.helpers.platform import ensure_adherents, join_adherents
from tests.helpers.signin import (
    SigninClient,
    password_grant,
    sign_in,
    signin_client,
)

PASSWORD = "Essai-Jeton-Refuse-2026!"  # test set-up only
POLICIES = "admin/realms/collecte/client-policies/policies"
ROPC_REFUSED = "resource owner password credentials grant is prohibited."
CLIENT_REFUSED = "Client not allowed for direct access grants"
FLOW_REFUSED = "n&#39;est pas identifiée comme celle d&#39;un interlocuteur de collecte"


@dataclass(frozen=True)
class Person:
    label: str
    id: str
    email: str


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@exemple-jeton.fr"


def _with_password(platform: Any, label: str, user_id: str) -> Person:
    platform.admin.set_user_password(user_id, PASSWORD, temporary=False)
    platform.admin.update_user(user_id, {"requiredActions": [], "emailVerified": True})
    return Person(label, user_id, platform.admin.get_user(user_id)["email"])


def _create(platform: Any, attributes: dict[str, list[str]]) -> str:
    return str(
        platform.admin.create_user(
            {
                "email": _email("personne"),
                "firstName": "Dominique",
                "lastName": "Jeton",
                "enabled": True,
                "attributes": attributes,
            }
        )
    )


@pytest.fixture
def refused_people(platform: Any) -> list[Person]:
    """A technical contact, a `collecte` value without the adherent's group, a former collection
    contact, a former coordinator (role removed, still in the marker group), each with a
    password."""
    admin = platform.admin
    technical = _create(platform, {"technique": ["213100019/1"]})
    former = _create(platform, {"collecte": ["213100019/1"]})
    # the last value removed; the other attributes (the revision read) sent back as they are
    read = admin.get_user(former)
    kept = {k: v for k, v in (read.get("attributes") or {}).items() if k != "collecte"}
    admin.update_user(former, {**read, "attributes": kept})
    code = f"GRP-JETON-{uuid.uuid4().hex[:6].upper()}"
    email = _email("coordination")
    outcome = add_groupement(admin, code, "Groupement jeton", Coordinator(email, "Claude", "Coord"))
    admin.delete_realm_roles_of_user(
        outcome.coordinator_id, [admin.get_realm_role(COORDINATOR_ROLE)]
    )
    assert outcome.marker_id in {g["id"] for g in admin.get_user_groups(outcome.coordinator_id)}
    # a `collecte` value without membership of an adherent's group: nothing under the rule
    valueless = _create(platform, {"collecte": ["213100019/2"]})
    return [
        _with_password(platform, "contact technique", technical),
        _with_password(platform, "collecte sans le groupe de l'adhérent", valueless),
        _with_password(platform, "ancien interlocuteur de collecte", former),
        _with_password(platform, "ancien coordonnateur", outcome.coordinator_id),
    ]


@pytest.fixture
def member(platform: Any) -> Person:
    """A collection contact under the authority rule: the value and the adherent's group."""
    ensure_adherents(platform, ["213100019/1"])
    person_id = _create(platform, {"collecte": ["213100019/1"]})
    join_adherents(platform, person_id, ["213100019/1"])
    return _with_password(platform, "interlocuteur de collecte", person_id)


@contextmanager
def ropc_policy_lifted(admin: Any) -> Iterator[None]:
    """The realm's client policies removed for the block (to show the other layer alone, or to
    make a client the policy would refuse), then put back as they were."""
    saved = admin.connection.raw_get(POLICIES).json()
    admin.connection.raw_put(POLICIES, data=json.dumps({"policies": []})).raise_for_status()
    try:
        yield
    finally:
        admin.connection.raw_put(POLICIES, data=json.dumps(saved)).raise_for_status()


@pytest.fixture
def direct_grant_client(platform: Any) -> Iterator[SigninClient]:
    """A confidential client with direct grants on, as a careless administrator would make one
    (only possible with the realm's policy lifted); the policy is back when the test runs."""
    with ExitStack() as stack:
        with ropc_policy_lifted(platform.admin):
            client = stack.enter_context(
                signin_client(platform.admin, confidential=True, direct_grants=True)
            )
        yield client


def _sessions(platform: Any, person: Person) -> list[Any]:
    return list(platform.admin.get_sessions(person.id))


def _assert_no_token(response: requests.Response, description: str) -> None:
    assert "access_token" not in response.text, response.text
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["error_description"]) in {
        ("invalid_grant", description),
        ("unauthorized_client", description),
    }, body


def test_no_client_of_the_realm_accepts_the_password_grant(platform):
    clients = platform.admin.get_clients()
    assert {c["clientId"] for c in clients} >= {"admin-cli", "collecte-portail"}
    assert [c["clientId"] for c in clients if c.get("directAccessGrantsEnabled")] == []


def test_no_client_can_be_given_the_password_grant(platform):
    """The client policy covers clients made later too: enabling the grant is refused."""
    policies = platform.admin.connection.raw_get(POLICIES).json()["policies"]
    assert [p["name"] for p in policies if p["enabled"]] == ["aucun octroi par mot de passe"]
    response = platform.admin.connection.raw_post(
        "admin/realms/collecte/clients",
        data=json.dumps(
            {
                "clientId": f"essai-ropc-{uuid.uuid4().hex[:8]}",
                "directAccessGrantsEnabled": True,
                "publicClient": True,
            }
        ),
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_client_metadata"


def test_refused_people_get_no_token_from_any_client(
    platform, refused_people, member, direct_grant_client
):
    portal_secret = platform.portal_config["OIDC_CLIENT_SECRET"]
    for person in [*refused_people, member]:
        # admin-cli (public) and the portal (confidential, with its secret): grant off
        _assert_no_token(
            password_grant(platform.keycloak_url, "admin-cli", person.email, PASSWORD),
            CLIENT_REFUSED,
        )
        _assert_no_token(
            password_grant(
                platform.keycloak_url, "collecte-portail", person.email, PASSWORD, portal_secret
            ),
            CLIENT_REFUSED,
        )
        # a client that has the grant on: the realm's policy refuses it
        _assert_no_token(
            password_grant(
                platform.keycloak_url,
                direct_grant_client.client_id,
                person.email,
                PASSWORD,
                direct_grant_client.secret,
            ),
            ROPC_REFUSED,
        )
        assert _sessions(platform, person) == [], person.label


def test_the_direct_grant_flow_refuses_them_on_its_own(
    platform, refused_people, member, direct_grant_client
):
    """Defence in depth: with the client policy lifted, the realm's direct-grant flow still
    refuses whoever the browser flow refuses (a collection contact, as a control, passes)."""
    with ropc_policy_lifted(platform.admin):
        for person in refused_people:
            response = password_grant(
                platform.keycloak_url,
                direct_grant_client.client_id,
                person.email,
                PASSWORD,
                direct_grant_client.secret,
            )
            assert "access_token" not in response.text, person.label
            assert response.status_code == 401, (person.label, response.text[:300])
            assert FLOW_REFUSED in response.text, person.label
            assert _sessions(platform, person) == [], person.label
        control = password_grant(
            platform.keycloak_url,
            direct_grant_client.client_id,
            member.email,
            PASSWORD,
            direct_grant_client.secret,
        )
        assert control.status_code == 200 and control.json()["access_token"]


def test_a_collection_contact_signs_in_through_the_login_form_only(platform, member):
    with signin_client(platform.admin) as client:
        tokens = sign_in(platform.keycloak_url, client, member.email, PASSWORD)
        assert tokens["access_token"] and tokens["refresh_token"]
        assert [s["userId"] for s in _sessions(platform, member)] == [member.id]
    _assert_no_token(
        password_grant(platform.keycloak_url, "admin-cli", member.email, PASSWORD), CLIENT_REFUSED
    )
