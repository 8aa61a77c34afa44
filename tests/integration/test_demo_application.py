"""The demo application of the dev run (collecte_kc.demo_application), registered with our command,
against the real Keycloak: its page after a real sign-in, its sign-out (RP-initiated logout) and
Keycloak's back-channel logout ending its session."""

from __future__ import annotations

import html
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from collecte_kc.applications import application, discovery_url, read_secret, register
from collecte_kc.demo_application import BACKCHANNEL_PATH, CALLBACK_PATH, DemoConfig, create_app
from tests.helpers.ports import free_port
from tests.helpers.realm_data import fresh_siren
from tests.helpers.relying_party import poll, require_perimeters_scope, sign_in_through
from tests.helpers.signin import LoopbackBrowser

pytestmark = pytest.mark.keycloak

PASSWORD = "Essai-Application-Demo-2026!"  # test set-up only
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def demo(platform: Any) -> Iterator[str]:
    """The demo application on a free port, registered as the dev run does; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = application(
        "Application de collecte (démonstration, essai)",
        f"application-demo-essai-{port}",
        [url + CALLBACK_PATH],
        [url + "/"],
        url + BACKCHANNEL_PATH,
    )
    outcome = register(platform.admin, app)
    config = DemoConfig(
        keycloak_url=platform.keycloak_url,
        client_secret=read_secret(platform.admin, app.client_id),
        public_url=url,
        client_id=app.client_id,
    )
    server = make_server("127.0.0.1", port, create_app(config), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield url
    finally:
        server.shutdown()
        platform.admin.delete_client(outcome.uuid)


@pytest.fixture
def member(
    platform: Any, adherent: Callable[..., str], activated_person: Callable[..., str]
) -> Callable[..., tuple[str, str, str]]:
    """A collection contact of a fresh adherent; returns (id, e-mail, SIREN)."""

    def make() -> tuple[str, str, str]:
        siren = adherent(fresh_siren(), "Commune de Démonstration", ("1", "2"))
        email = activated_person(PASSWORD, collecte=[f"{siren}/2"])
        return str(platform.admin.get_user_id(email)), email, siren

    return make


def _signed_in(page: str) -> bool:
    return 'id="connecte"' in page


def test_the_page_says_who_is_signed_in(demo, member):
    _, email, _ = member()
    _, response = sign_in_through(demo + "/connexion", email, PASSWORD)
    assert response.status_code == 200 and response.url == demo + "/"
    page = response.text
    assert "Application de collecte (démonstration)" in page
    assert _signed_in(page) and html.escape(email) in page
    assert "Se déconnecter" in page


def test_the_page_shows_the_perimeters_of_the_token(platform, demo, member):
    """Needs the realm's `perimetres-collecte` scope (Keycloak extension)."""
    require_perimeters_scope(platform)
    _, email, siren = member()
    _, response = sign_in_through(demo + "/connexion", email, PASSWORD)
    assert 'id="perimetres"' in response.text, response.text
    rows = re.findall(r"<tr><td>(\d{9})</td><td>([^<]*)</td><td>([^<]*)</td>", response.text)
    assert rows == [(siren, "2", "Commune de Démonstration")]


def test_keycloak_back_channel_logout_ends_the_application_session(platform, demo, member):
    person_id, email, _ = member()
    browser, response = sign_in_through(demo + "/connexion", email, PASSWORD)
    assert _signed_in(response.text)
    platform.admin.user_logout(person_id)  # Keycloak calls the application's back-channel URL
    poll(
        lambda: True if not _signed_in(browser.get(demo + "/", timeout=10).text) else None,
        "la session de l'application terminée par Keycloak",
    )


def test_signing_out_ends_the_keycloak_session_too(platform, demo, member):
    person_id, email, _ = member()
    browser, response = sign_in_through(demo + "/connexion", email, PASSWORD)
    assert platform.admin.get_sessions(person_id)
    token = CSRF.search(response.text)
    assert token is not None
    answer = browser.post(
        demo + "/deconnexion", data={"csrf_token": token.group(1)}, allow_redirects=False
    )
    assert "/protocol/openid-connect/logout" in answer.headers["Location"]
    back = browser.get(answer.headers["Location"], timeout=10)
    # back on the application's page (Keycloak adds the `state` Authlib sent), signed out
    assert back.url.split("?")[0] == demo + "/" and not _signed_in(back.text)
    assert platform.admin.get_sessions(person_id) == []


def test_the_logout_endpoint_refuses_a_forged_token(demo):
    answer = LoopbackBrowser().post(
        demo + BACKCHANNEL_PATH, data={"logout_token": "a.b.c"}, timeout=10
    )
    assert answer.status_code == 400


def test_keycloak_offers_the_realm_client_scopes_in_its_discovery_document(platform):
    """What the demo application relies on to ask for `perimetres-collecte` only where the realm
    has it (Keycloak refuses an unknown scope: invalid_scope)."""
    name = f"essai-portee-{uuid.uuid4().hex[:8]}"
    scope_id = platform.admin.create_client_scope({"name": name, "protocol": "openid-connect"})
    try:
        document = requests.get(discovery_url(platform.keycloak_url), timeout=10).json()
        assert name in document["scopes_supported"]
    finally:
        platform.admin.delete_client_scope(scope_id)
