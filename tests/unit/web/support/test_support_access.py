"""Support console: who may open it (the realm role `support`, asked to Keycloak every time)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
import requests
import responses
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_A, SIREN_A
from tests.helpers.pages import assert_accessible, html
from tests.helpers.personas import MEMBER, SUPPORT_USER, TECHNICIAN
from tests.helpers.settings import TOKEN_ENDPOINT

Post = Callable[..., TestResponse]
SignIn = Callable[[Mapping[str, Any]], None]
PERSON, REQUEST = TECHNICIAN["id"], "r-0000000-0000-4000-8000-000000000001"
SCOPE_PAGE = f"/support/adherents/{SIREN_A}/1"
CONTACT_PAGE = f"{SCOPE_PAGE}/contacts/{PERSON}"
REVOKE_PAGE = f"/support/personnes/{MEMBER['id']}/collecte/{SIREN_A}/1/retirer"
EMAIL_PAGE = f"/support/personnes/{PERSON}/email"
#: Everything a POST route may read from its form: valid values, so refusals are not 422.
FORM = {
    "nom": "Nouveau",
    "prenom": "Jean",
    "email": "jean.nouveau@demoville.fr",
    "telephone_fixe": "02 99 00 00 01",
    "fonctions": "technique",
    "siren": SIREN_A,
    "lot": "1",
    "motif": "Personne inconnue",
}


def nothing(api: AdminApi) -> None:
    """The page reads nothing from Keycloak beyond the role check."""


def scope_page(api: AdminApi) -> None:
    api.adherent(SIREN_A)
    api.scope_contacts(SCOPE_A)


#: (path, what Keycloak answers for support to see the page) of every GET page.
PAGES: list[tuple[str, Callable[[AdminApi], None]]] = [
    ("/support/", lambda api: api.pending([])),
    ("/support/interlocuteurs/nouveau", nothing),
    ("/support/adherents", nothing),
    ("/support/diagnostic", nothing),
    ("/support/historique", nothing),
    (f"{SCOPE_PAGE}/", scope_page),
    (f"{SCOPE_PAGE}/contacts/nouveau", nothing),
    (f"{CONTACT_PAGE}/modifier", lambda api: api.person(TECHNICIAN)),
    (REVOKE_PAGE, lambda api: (api.person(MEMBER), api.adherent(SIREN_A))),
    (EMAIL_PAGE, lambda api: (api.person(TECHNICIAN), api.roles(PERSON))),
]
#: Every route that changes something (each one's effect is tested in test_support_*.py).
POSTS = [
    f"/support/demandes/{PERSON}/{REQUEST}/accepter",
    f"/support/demandes/{PERSON}/{REQUEST}/refuser",
    "/support/interlocuteurs/nouveau",
    f"/support/personnes/{PERSON}/reinviter",
    f"/support/personnes/{PERSON}/deverrouiller",
    f"{SCOPE_PAGE}/contacts/nouveau",
    f"{CONTACT_PAGE}/modifier",
    f"{CONTACT_PAGE}/retirer",
    REVOKE_PAGE,
    EMAIL_PAGE,
]
ROUTES = [("GET", path) for path, _ in PAGES] + [("POST", path) for path in POSTS]


def send(client: FlaskClient, post: Post, method: str, path: str) -> TestResponse:
    return client.get(path) if method == "GET" else post(path, FORM)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(
    client: FlaskClient, post: Post, method: str, path: str
) -> None:
    response = send(client, post, method, path)
    assert response.status_code == 302
    assert response.location.startswith("/connexion?next=/support/")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_member_without_the_role_is_refused_and_nothing_is_written(
    client: FlaskClient,
    admin_api: AdminApi,
    sign_in_as: SignIn,
    post: Post,
    method: str,
    path: str,
) -> None:
    admin_api.token()
    admin_api.roles(MEMBER["id"])  # default roles only
    sign_in_as(MEMBER)

    response = send(client, post, method, path)

    assert response.status_code == 403
    page = html(response)
    assert page.find("h1").text() == "Accès refusé"
    assert "réservée au support de la plateforme" in page.by_id("contenu").text()
    assert page.find("html").attrs["lang"] == "fr"
    assert admin_api.writes() == []


@pytest.mark.parametrize(("path", "reads"), PAGES, ids=[path for path, _ in PAGES])
def test_support_opens_every_page(
    client: FlaskClient, support: AdminApi, path: str, reads: Callable[[AdminApi], None]
) -> None:
    reads(support)
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = html(response)
    assert_accessible(page)
    nav = page.find("nav", class_="nav-support")
    assert [a.text() for a in nav.find_all("a")] == [
        "Demandes",
        "Ajouter un interlocuteur de collecte",
        "Adhérents",
        "Diagnostic",
        "Historique",
    ]
    assert support.writes() == []


@pytest.mark.parametrize("path", POSTS)
def test_post_without_csrf_token_is_refused(
    client: FlaskClient, sign_in_as: SignIn, path: str
) -> None:
    sign_in_as(SUPPORT_USER)  # refused before any Keycloak call
    response = client.post(path, data=FORM)
    assert response.status_code == 400
    assert "Le formulaire a expiré ou n’est pas valide" in response.get_data(as_text=True)


def test_a_withdrawn_role_takes_effect_at_the_request_after_keycloak_says_so(
    client: FlaskClient,
    support: AdminApi,
    kc: responses.RequestsMock,
    realm_changed: Callable[[], None],
) -> None:
    support.roles(SUPPORT_USER["id"])  # the second answer: the role was withdrawn
    assert client.get("/support/adherents").status_code == 200
    assert client.get("/support/adherents").status_code == 200  # the realm did not change
    realm_changed()
    assert client.get("/support/adherents").status_code == 403
    asked = [call for call in kc.calls if "role-mappings/realm/composite" in call.request.url]
    assert len(asked) == 2


def test_a_write_asks_keycloak_even_when_a_page_was_just_read(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    """A POST decides on what Keycloak says now, never on a page read kept in the cache: here
    the role is withdrawn and no notification came (lost, or not yet there)."""
    assert client.get("/support/adherents").status_code == 200
    support.roles(SUPPORT_USER["id"])  # withdrawn
    assert post(f"/support/personnes/{PERSON}/deverrouiller", FORM).status_code == 403
    assert support.writes() == []


def test_home_links_to_the_support_console_once_the_role_is_known(
    client: FlaskClient,
    support: AdminApi,
    kc: responses.RequestsMock,
    realm_changed: Callable[[], None],
) -> None:
    assert not html(client.get("/")).find_all(id="lien-support")
    client.get("/support/adherents")
    link = html(client.get("/")).by_id("lien-support")
    assert (link.tag, link.attrs["href"], link.text()) == ("a", "/support/", "Espace support")

    support.roles(SUPPORT_USER["id"])  # withdrawn
    realm_changed()
    assert client.get("/support/adherents").status_code == 403
    assert not html(client.get("/")).find_all(id="lien-support")


def test_a_member_never_sees_the_support_link(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn
) -> None:
    admin_api.token()
    admin_api.roles(MEMBER["id"])
    sign_in_as(MEMBER)
    assert client.get("/support/").status_code == 403
    assert not html(client.get("/")).find_all(id="lien-support")


@pytest.mark.parametrize(
    "path",
    [
        "/support/adherents/12345/1/",
        f"/support/adherents/{SIREN_A}/lot%201/",
        f"{SCOPE_PAGE}/contacts/a%20b/modifier",
    ],
)
def test_malformed_siren_lot_or_person_is_not_found(
    client: FlaskClient, support: AdminApi, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [f"/support/demandes/a%20b/{REQUEST}/accepter", f"/support/personnes/{'x' * 200}/reinviter"],
)
def test_malformed_ids_in_a_post_are_not_found(support: AdminApi, post: Post, path: str) -> None:
    response = post(path, FORM)
    assert response.status_code == 404
    assert support.writes() == []


def test_keycloak_down_gives_the_french_unavailable_page(
    client: FlaskClient, kc: responses.RequestsMock, sign_in_as: SignIn
) -> None:
    kc.post(TOKEN_ENDPOINT, body=requests.ConnectionError("refused"))
    sign_in_as(SUPPORT_USER)
    response = client.get("/support/")
    assert response.status_code == 503
    assert "Service momentanément indisponible" in response.get_data(as_text=True)
