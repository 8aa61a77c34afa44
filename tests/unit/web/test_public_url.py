"""Issue 10, forged Host header: every absolute URL the portal writes (mails, OpenID Connect
redirects, invitation links) comes from the configured public address ``PORTAL_URL``
(``COLLECTE_PORTAL_URL``), never from the request's Host; a Host that is not the portal's gets
a French 400 page (Flask's ``TRUSTED_HOSTS``, derived from ``PORTAL_URL``)."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.web.app import ConfigurationError, create_app
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_A, SIREN_A
from tests.helpers.pages import html
from tests.helpers.settings import TEST_CONFIG

from .espace.test_espace_writes import CONTACT, NEW_EMAIL, NEW_ID, REQUEST_URL, Post

PUBLIC = "https://collecte.example.fr"


def test_a_forged_host_gets_the_french_400_page(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    for method in ("GET", "POST"):  # a POST is refused before the CSRF check, too
        response = client.open("/connexion", method=method, headers={"Host": "pirate.example"})
        assert response.status_code == 400
        page = html(response)
        assert page.find("h1").text() == "Adresse inconnue"
        assert page.find("a").attrs["href"] == "http://localhost/"  # where to go instead
        assert "pirate.example" not in response.get_data(as_text=True)
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.parametrize("host", ["localhost", "localhost:5000"])
def test_the_portals_own_host_is_served(make_app: Callable[..., Flask], host: str) -> None:
    assert make_app().test_client().get("/", headers={"Host": host}).status_code == 200


def test_trusted_hosts_follow_the_public_url() -> None:
    app = create_app({**TEST_CONFIG, "PORTAL_URL": f"{PUBLIC}/"})
    assert app.config["TRUSTED_HOSTS"] == ["collecte.example.fr"]
    assert app.test_client().get("/", headers={"Host": "localhost"}).status_code == 400
    assert app.test_client().get("/", base_url=PUBLIC).status_code == 200


@pytest.mark.parametrize("url", ["", "collecte.example.fr", "ftp://x.fr", "https://x.fr/portail"])
def test_an_unusable_public_url_stops_the_start(url: str) -> None:
    with pytest.raises(ConfigurationError, match="PORTAL_URL"):
        create_app({**TEST_CONFIG, "PORTAL_URL": url})


# --- under a Host other than the public address ------------------------------------------------


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """Public address PUBLIC; the test client's Host « localhost » is let through as well, so
    that every absolute URL below is built under a Host that is not the public one."""
    return make_app(PORTAL_URL=PUBLIC, TRUSTED_HOSTS=["collecte.example.fr", "localhost"])


def test_the_request_mail_links_to_the_public_url(
    member: AdminApi, post: Post, outbox: list[EmailMessage]
) -> None:
    member.adherent(SIREN_A)
    member.email_search(NEW_EMAIL, [])
    member.accept_create(NEW_ID)
    response = post(REQUEST_URL, {**CONTACT, "perimetre": SCOPE_A})
    assert response.status_code == 302
    [mail] = outbox
    body = mail.get_content()
    assert f"{PUBLIC}/support/?siren={SIREN_A}&lot=1" in body
    assert "localhost" not in body


def test_the_oidc_redirect_uri_is_the_public_one(
    client: FlaskClient, discovery: dict[str, Any]
) -> None:
    response = client.get("/connexion")
    params = parse_qs(urlsplit(response.location).query)
    assert params["redirect_uri"] == [f"{PUBLIC}/auth/callback"]


def test_the_invitation_link_of_an_import_is_the_public_one(app: Flask) -> None:
    from portal.web.public_url import external_url

    with app.test_request_context("/", headers={"Host": "localhost"}):
        assert external_url("auth.login") == f"{PUBLIC}/connexion"
        assert external_url("main.home") == f"{PUBLIC}/"
