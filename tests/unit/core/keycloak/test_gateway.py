"""KeycloakGateway: JSON -> Person, one service-account token, outage translation."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from flask import Flask
from requests import PreparedRequest
from responses import matchers

from portal.core.domain import Change, Function, Person, Scope
from portal.core.errors import KeycloakRefused
from portal.core.keycloak.gateway import INVITATION_WORKERS, KeycloakGateway, KeycloakUnavailable
from portal.core.services.bulk import Plan
from portal.web.gateway import get_gateway
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, SCOPE_A, user_json
from tests.helpers.settings import (
    ADMIN_GROUPS_URL,
    ADMIN_REALM_URL,
    ADMIN_USERS_URL,
    TOKEN_ENDPOINT,
)

CAMILLE: dict[str, Any] = {
    "id": "7f1c2a9e-0000-4000-8000-000000000001",
    "username": "camille.martin@example.fr",
    "email": "camille.martin@example.fr",
    "firstName": "Camille",
    "lastName": "Martin",
    "enabled": True,
    "emailVerified": True,
    "createdTimestamp": 1700000000000,
    "attributes": {
        "collecte": ["552081317/1", "552081317/3"],
        "technique": ["552081317/1", "pas-un-perimetre"],
        "telephoneMobile": ["+33612345678"],
        "terms_and_conditions": ["1795881002"],
        "cguVersionAcceptee": ["2026-11"],
        "derniereModification": [
            '{"par": "sam@x.fr", "le": "2026-11-28T16:00:00+00:00", "quoi": "ajout"}'
        ],
    },
}


ADMIN_TOKEN = "jeton-admin"


def mock_service_account_token(kc: responses.RequestsMock, token: str = ADMIN_TOKEN) -> None:
    kc.post(
        TOKEN_ENDPOINT,
        json={"access_token": token, "expires_in": 300, "token_type": "Bearer", "scope": "profile"},
    )


def mock_user_search(kc: responses.RequestsMock, email: str, users: list[dict[str, Any]]) -> None:
    kc.get(
        ADMIN_USERS_URL,
        json=users,
        match=[
            matchers.query_param_matcher(
                {"email": email, "exact": "true", "first": "0", "max": "2"}
            )
        ],
    )


def test_find_person_maps_json_and_reuses_one_token(app: Flask, kc: responses.RequestsMock) -> None:
    mock_service_account_token(kc)
    mock_user_search(kc, "camille.martin@example.fr", [CAMILLE])
    mock_user_search(kc, "inconnu@example.fr", [])

    with app.app_context():
        gateway = get_gateway()
        person = gateway.find_person_by_email("camille.martin@example.fr")
        nobody = gateway.find_person_by_email("inconnu@example.fr")

    assert person == Person(
        id="7f1c2a9e-0000-4000-8000-000000000001",
        email="camille.martin@example.fr",
        first_name="Camille",
        last_name="Martin",
        enabled=True,
        email_verified=True,
        phone_mobile="+33612345678",
        functions={
            Function.COLLECTE: frozenset({Scope("552081317", "1"), Scope("552081317", "3")}),
            Function.TECHNIQUE: frozenset({Scope("552081317", "1")}),
            Function.FACTURATION: frozenset(),
        },
        terms_accepted_at=datetime(2026, 11, 28, 15, 50, 2, tzinfo=UTC),
        terms_version="2026-11",
        last_change=Change("sam@x.fr", datetime(2026, 11, 28, 16, 0, tzinfo=UTC), "ajout"),
    )
    assert nobody is None

    token_calls = [call for call in kc.calls if call.request.url == TOKEN_ENDPOINT]
    assert len(token_calls) == 1
    form = parse_qs(str(token_calls[0].request.body))
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_id"] == ["collecte-portail-admin"]
    assert form["client_secret"] == ["test-admin-client-secret"]
    assert "password" not in form
    user_calls = [call for call in kc.calls if call.request.url.startswith(ADMIN_USERS_URL)]
    assert len(user_calls) == 2
    for call in user_calls:
        assert call.request.headers["Authorization"] == "Bearer jeton-admin"


def test_one_gateway_per_application(make_app: Callable[..., Flask]) -> None:
    first, second = make_app(), make_app()
    with first.app_context():
        gateway = get_gateway()
        assert get_gateway() is gateway
    with second.app_context():
        assert get_gateway() is not gateway


def test_find_person_requires_an_exact_match(app: Flask, kc: responses.RequestsMock) -> None:
    mock_service_account_token(kc)
    mock_user_search(kc, "camille@example.fr", [{**CAMILLE, "email": "camille@example.fr.evil"}])
    with app.app_context():
        assert get_gateway().find_person_by_email("camille@example.fr") is None


def test_find_person_ignores_case(app: Flask, kc: responses.RequestsMock) -> None:
    mock_service_account_token(kc)
    mock_user_search(kc, "Camille.Martin@Example.fr", [CAMILLE])
    with app.app_context():
        person = get_gateway().find_person_by_email("Camille.Martin@Example.fr")
    assert person is not None
    assert person.id == CAMILLE["id"]


def test_blank_email_asks_nothing(app: Flask) -> None:
    with app.app_context():
        assert get_gateway().find_person_by_email("  ") is None


def test_minimal_representation() -> None:
    person = Person.from_representation({"id": "x"})
    assert person == Person(
        id="x",
        email="",
        first_name="",
        last_name="",
        enabled=False,
        email_verified=False,
        functions={function: frozenset() for function in Function},
    )


def test_keycloak_url_with_a_path(kc: responses.RequestsMock) -> None:
    config = {
        "KEYCLOAK_URL": "http://keycloak.test/auth/",
        "KEYCLOAK_REALM": "collecte",
        "ADMIN_CLIENT_ID": "collecte-portail-admin",
        "ADMIN_CLIENT_SECRET": "s",
        "KEYCLOAK_TIMEOUT": 5,
    }
    kc.post(
        "http://keycloak.test/auth/realms/collecte/protocol/openid-connect/token",
        json={"access_token": "t", "expires_in": 300},
    )
    kc.get("http://keycloak.test/auth/admin/realms/collecte/users", json=[])
    assert KeycloakGateway.from_config(config).find_person_by_email("a@example.fr") is None


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.ConnectionError("refused")},
        {"body": requests.ReadTimeout()},
        {"status": 503},
        {"status": 500, "json": {"error": "unknown_error"}},
    ],
    ids=["refused", "timeout", "503", "500"],
)
def test_token_endpoint_failures_mean_unavailable(
    app: Flask, kc: responses.RequestsMock, failure: dict[str, Any]
) -> None:
    kc.post(TOKEN_ENDPOINT, **failure)
    with app.app_context(), pytest.raises(KeycloakUnavailable):
        get_gateway().find_person_by_email("camille.martin@example.fr")


@pytest.mark.parametrize(
    "failure",
    [{"body": requests.ConnectionError("reset")}, {"status": 502}],
    ids=["reset", "502"],
)
def test_admin_api_failures_mean_unavailable(
    app: Flask, kc: responses.RequestsMock, failure: dict[str, Any]
) -> None:
    mock_service_account_token(kc)
    kc.get(ADMIN_USERS_URL, **failure)
    with app.app_context(), pytest.raises(KeycloakUnavailable):
        get_gateway().find_person_by_email("camille.martin@example.fr")


def test_client_errors_are_not_hidden_as_outages(app: Flask, kc: responses.RequestsMock) -> None:
    mock_service_account_token(kc)
    kc.get(ADMIN_USERS_URL, status=403, json={"error": "HTTP 403 Forbidden"})
    with app.app_context(), pytest.raises(KeycloakRefused):
        get_gateway().find_person_by_email("camille.martin@example.fr")


def test_expired_service_account_token_is_replaced(app: Flask, kc: responses.RequestsMock) -> None:
    """python-keycloak renews the token by itself once 90 % of its lifetime has passed."""
    mock_service_account_token(kc, "jeton-1")
    mock_service_account_token(kc, "jeton-2")
    mock_user_search(kc, "camille.martin@example.fr", [CAMILLE])

    with app.app_context():
        gateway = get_gateway()
        gateway.find_person_by_email("camille.martin@example.fr")
        connection = gateway._admin.connection
        connection._expires_at = datetime.now(tz=UTC) - timedelta(seconds=1)
        gateway.find_person_by_email("camille.martin@example.fr")

    user_calls = [call for call in kc.calls if call.request.url.startswith(ADMIN_USERS_URL)]
    assert [call.request.headers["Authorization"] for call in user_calls] == [
        "Bearer jeton-1",
        "Bearer jeton-2",
    ]


def test_a_bulk_import_sends_invitations_several_at_once_and_reports_failures_in_line_order(
    app: Flask, admin_api: AdminApi
) -> None:
    """The invitations of an import go `INVITATION_WORKERS` at a time (a barrier of that many
    callers would time out if they went one by one); the realm is read once; a failed e-mail is
    reported on its line, in line order, and the person's record is put back."""
    admin_api.token()
    admin_api.realm()
    group = {"id": "g-groupement", "name": GROUPEMENT}
    admin_api.kc.get(f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}", json=group)
    together = threading.Barrier(INVITATION_WORKERS, timeout=5)
    failing = {"p-2", "p-7"}

    def send(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        together.wait()
        person_id = str(request.url).split("/users/")[1].split("/")[0]
        if person_id in failing:
            return 500, {}, json.dumps({"errorMessage": "Failed to send execute actions email"})
        return 204, {}, ""

    plan = Plan(GROUPEMENT)
    for index in range(8):
        person_id, email = f"p-{index}", f"personne{index}@exemple.fr"
        admin_api.person(user_json(person_id, email, "Prénom", "Nom"))
        admin_api.accept_update(person_id)
        admin_api.kc.add_callback(
            responses.PUT, f"{ADMIN_USERS_URL}/{person_id}/execute-actions-email", callback=send
        )
        plan.invitations[email], plan.ids[email] = index + 2, person_id
    ticks: list[int] = []

    outcome = KeycloakGateway.from_config(app.config).apply_import(
        plan,
        "https://portail/connexion",
        Change.now("support@exemple.fr", "import"),
        progress=ticks.append,
    )

    assert outcome.invitations_sent == 6 and ticks == [1] * 8
    assert [(f.line, f.message.split(" non envoyée")[0]) for f in outcome.failures] == [
        (4, "Invitation de personne2@exemple.fr"),
        (9, "Invitation de personne7@exemple.fr"),
    ]
    realm_reads = [c for c in admin_api.kc.calls if c.request.url == ADMIN_REALM_URL]
    assert len(realm_reads) == 1
    assert "invitationEnvoyeeLe" in admin_api.people["p-1"]["attributes"]
    assert "invitationEnvoyeeLe" not in admin_api.people["p-2"]["attributes"]  # put back


def test_a_long_file_finds_who_exists_from_brief_pages_then_reads_only_them(
    app: Flask, admin_api: AdminApi
) -> None:
    """More e-mails than searches are worth: one brief page says who exists (cheap while the
    users are cold in Keycloak), then only those are read in full."""
    admin_api.token()
    group = {"id": "g-groupement", "name": GROUPEMENT}
    admin_api.kc.get(f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}", json=group)
    admin_api.kc.get(f"{ADMIN_GROUPS_URL}/g-groupement/children", json=[])
    admin_api.kc.get(f"{ADMIN_USERS_URL}/count", json=3)
    emails = [f"personne{index}@exemple.fr" for index in range(30)]  # > SEARCHES_PER_PAGE
    known = [user_json(f"p-{i}", emails[i], "Prénom", "Nom", collecte=[SCOPE_A]) for i in (4, 9)]
    brief = [{"id": u["id"], "email": u["email"]} for u in known]
    admin_api.kc.get(
        ADMIN_USERS_URL,
        json=[*brief, {"id": "x", "email": "quelquun@ailleurs.fr"}],
        match=[
            matchers.query_param_matcher(
                {"first": "0", "max": "1000", "briefRepresentation": "true"}
            )
        ],
    )
    for user in known:
        mock_user_search(admin_api.kc, user["email"], [user])

    existing = KeycloakGateway.from_config(app.config).import_state(GROUPEMENT, emails)

    assert sorted(existing.people) == [emails[4], emails[9]]
    assert existing.people[emails[9]].id == "p-9"


def test_who_exists_is_asked_by_email_a_thousand_addresses_per_call(
    app: Flask, admin_api: AdminApi
) -> None:
    """With the extension's read, no listing of the realm nor search per e-mail: one POST per
    thousand addresses of the file, whatever the realm's size."""
    admin_api.token()
    admin_api.by_email_read()
    group = {"id": "g-groupement", "name": GROUPEMENT}
    admin_api.kc.get(f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}", json=group)
    admin_api.kc.get(f"{ADMIN_GROUPS_URL}/g-groupement/children", json=[])
    emails = [f"personne{index}@exemple.fr" for index in range(2500)]
    for i in (4, 1999):
        admin_api.people[f"p-{i}"] = user_json(f"p-{i}", emails[i], "P", "N", collecte=[SCOPE_A])

    existing = KeycloakGateway.from_config(app.config).import_state(
        GROUPEMENT, [email.upper() for email in emails]
    )

    assert sorted(existing.people) == sorted([emails[4], emails[1999]])
    asked = [call for call in admin_api.kc.calls if call.request.url.endswith("/by-email")]
    assert [len(json.loads(call.request.body)) for call in asked] == [1000, 1000, 500]
    assert not [call for call in admin_api.kc.calls if "/users?" in call.request.url]


def test_joining_a_group_another_writer_just_joined_is_not_an_error(
    app: Flask, kc: responses.RequestsMock
) -> None:
    """Two writers join one person to the adherent's group at the same instant: Keycloak's
    second insert of the membership answers 409 « Duplicate resource error »."""
    mock_service_account_token(kc)
    joined = f"{ADMIN_USERS_URL}/p-1/groups/g-1"
    duplicate = {"error": "conflict", "error_description": "Duplicate resource error"}
    kc.put(joined, status=409, json=duplicate)
    with app.app_context():
        get_gateway().groups.join("p-1", "g-1")  # no error
    kc.replace(responses.PUT, joined, status=500, json={"error": "unknown_error"})
    with app.app_context(), pytest.raises(KeycloakUnavailable):
        get_gateway().groups.join("p-1", "g-1")
