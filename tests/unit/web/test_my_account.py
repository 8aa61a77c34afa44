"""« Mon compte » against the Admin API as Keycloak answers it: the person's sessions listed,
one of their own closed (one DELETE), any other id refused with nothing written; the actions
on Keycloak's pages are application-initiated actions of the portal's own client."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.admin_api import AdminApi
from tests.helpers.pages import html
from tests.helpers.personas import MEMBER
from tests.helpers.settings import ADMIN_REALM_URL, ADMIN_USERS_URL

Post = Callable[..., TestResponse]
SignIn = Callable[[Mapping[str, Any]], None]
SESSIONS = [
    {
        "id": "s-1",
        "ipAddress": "192.0.2.10",
        "start": 1_765_000_000_000,
        "lastAccess": 1_765_000_600_000,
        "clients": {"c-1": "collecte-portail"},
    },
    {"id": "s-2", "ipAddress": "", "start": 1_764_000_000_000, "lastAccess": 1_764_000_000_000},
]


def sessions_of_member(api: AdminApi) -> None:
    api.kc.get(f"{ADMIN_USERS_URL}/{MEMBER['id']}/sessions", json=SESSIONS)


def test_the_page_lists_the_persons_sessions_newest_use_first(
    client: FlaskClient, member: AdminApi
) -> None:
    sessions_of_member(member)
    page = html(client.get("/compte/"))
    rows = page.by_id("sessions").find_all("tr")[1:]
    assert [row.attrs["data-session"] for row in rows] == ["s-1", "s-2"]
    assert "192.0.2.10" in rows[0].text() and "collecte-portail" in rows[0].text()
    assert page.by_id("identifiant").text() == MEMBER["email"]
    assert member.writes() == []


def test_closing_one_of_ones_own_sessions_is_one_delete(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    sessions_of_member(member)
    member.kc.delete(f"{ADMIN_REALM_URL}/sessions/s-2", status=204)
    response = post("/compte/sessions/s-2/fermer")
    assert response.status_code == 303
    assert member.writes() == [f"DELETE {ADMIN_REALM_URL}/sessions/s-2"]


def test_someone_elses_session_is_not_closed(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    sessions_of_member(member)
    response = post("/compte/sessions/s-de-quelquun-d-autre/fermer")
    assert response.status_code == 303
    assert member.writes() == []


def test_closing_needs_csrf(client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn) -> None:
    sign_in_as(MEMBER)
    assert client.post("/compte/sessions/s-2/fermer").status_code == 400
    assert admin_api.writes() == []


def test_the_password_change_is_keycloaks_application_initiated_action(
    client: FlaskClient, sign_in_as: SignIn, discovery: dict[str, Any]
) -> None:
    sign_in_as(MEMBER)
    response = client.get("/compte/keycloak/mot-de-passe")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.location).query)
    assert query["kc_action"] == ["UPDATE_PASSWORD"] and query["ui_locales"] == ["fr"]
    assert client.get("/compte/keycloak/autre-chose").status_code == 404
