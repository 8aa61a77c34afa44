"""Suivi des activations: who may open its pages (signed-out visitors, members, coordinators
of this or another groupement, support), which groupements each one is offered, and the home
page's link to it, against the Admin API as Keycloak answers it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, user_json
from tests.helpers.pages import get_page, html
from tests.helpers.personas import MEMBER
from tests.helpers.settings import ADMIN_GROUPS_URL, ADMIN_REALM_URL

from ._support import BASE, COORDINATOR, Post, SignIn, dataset, paged, staff_groups

OTHER_COORDINATOR = user_json(
    "c0000000-0000-4000-8000-0000000000cc", "paul.nord@groupement-nord.fr", "Paul", "Nord"
)


ROUTES = [
    ("GET", f"{BASE}/"),
    ("GET", f"{BASE}/export.csv"),
    ("GET", f"{BASE}/relancer"),
    ("POST", f"{BASE}/relancer"),
]


def send(client: FlaskClient, post: Post, method: str, path: str) -> TestResponse:
    return client.get(path) if method == "GET" else post(path)


# --- who may open it ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/coordination/"), *ROUTES])
def test_signed_out_visitors_are_sent_to_sign_in(
    client: FlaskClient, post: Post, method: str, path: str
) -> None:
    response = send(client, post, method, path)
    assert response.status_code == 302
    assert response.location.startswith("/connexion?next=/coordination/")


@pytest.mark.parametrize(("method", "path"), [("GET", "/coordination/"), *ROUTES])
def test_a_member_is_refused(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn, post: Post, method: str, path: str
) -> None:
    admin_api.token()
    admin_api.roles(MEMBER["id"])
    sign_in_as(MEMBER)
    response = send(client, post, method, path)
    assert response.status_code == 403
    assert "réservée aux coordonnateurs du groupement" in response.get_data(as_text=True)
    assert admin_api.writes() == []


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_coordinator_of_another_groupement_is_refused_without_reading_it(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn, post: Post, method: str, path: str
) -> None:
    admin_api.token()
    admin_api.roles(OTHER_COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, OTHER_COORDINATOR["id"], "GRP-NORD")
    sign_in_as(OTHER_COORDINATOR)
    response = send(client, post, method, path)
    assert response.status_code == 403
    assert admin_api.writes() == []


def test_a_coordinator_lists_only_their_groupements(
    client: FlaskClient, coordinator: AdminApi
) -> None:
    page = get_page(client, "/coordination/")
    links = page.find_all("a", data_groupement=GROUPEMENT)
    assert [a.attrs["href"] for a in links] == [f"{BASE}/"]
    assert len([a for a in page.find_all("a") if "data-groupement" in a.attrs]) == 1


def test_support_lists_every_groupement(client: FlaskClient, support: AdminApi) -> None:
    groups = [{"id": "g-1", "name": GROUPEMENT}, {"id": "g-2", "name": "GRP-NORD"}]
    groups.append({"id": "g-3", "name": "coordonnateurs"})
    paged(support, ADMIN_GROUPS_URL, groups, briefRepresentation="true")
    page = get_page(client, "/coordination/")
    codes = [a.attrs["data-groupement"] for a in page.find_all("a") if "data-groupement" in a.attrs]
    assert codes == [GROUPEMENT, "GRP-NORD"]


@pytest.mark.parametrize("who", ["coordinator", "support"])
@pytest.mark.parametrize("path", [f"{BASE}/", f"{BASE}/export.csv", f"{BASE}/relancer"])
def test_the_groupements_coordinator_and_support_open_every_page(
    client: FlaskClient, request: pytest.FixtureRequest, who: str, path: str
) -> None:
    api: AdminApi = request.getfixturevalue(who)
    dataset(api)
    response = client.get(path)
    assert response.status_code == 200
    assert api.writes() == []


def test_an_unknown_groupement_is_not_found(client: FlaskClient, support: AdminApi) -> None:
    support.kc.get(f"{ADMIN_REALM_URL}/group-by-path/GRP-INCONNU", status=404, json={})
    assert client.get("/coordination/GRP-INCONNU/").status_code == 404


def test_home_links_to_the_follow_up_once_a_staff_page_was_authorized(
    client: FlaskClient, coordinator: AdminApi, realm_changed: Callable[[], None]
) -> None:
    assert not html(client.get("/")).find_all(id="lien-coordination")
    client.get("/coordination/")
    link = html(client.get("/")).by_id("lien-coordination")
    assert (link.attrs["href"], link.text()) == ("/coordination/", "Suivi des activations")

    coordinator.roles(COORDINATOR["id"])  # the role was withdrawn
    realm_changed()
    assert client.get("/coordination/").status_code == 403
    assert not html(client.get("/")).find_all(id="lien-coordination")
