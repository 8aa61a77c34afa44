"""Shared fixtures: one real Keycloak, SMTP sink and portal per test session.

Unit tests never ask for these fixtures, so they run without any server.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError
from werkzeug.serving import BaseWSGIServer, make_server

from collecte_kc.mailsink import MailSink, start_sink
from collecte_kc.provision import admin_client, provision
from collecte_kc.server import KeycloakServer
from tests.ports import free_port

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
PORTAL_CLIENT_ID = "collecte-portail"
SUPPORT_EMAIL = "support@collecte.test"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


@dataclass
class Platform:
    keycloak: KeycloakServer
    admin: KeycloakAdmin
    mail: MailSink
    portal_url: str
    portal_config: dict[str, Any]
    startup_seconds: float

    @property
    def keycloak_url(self) -> str:
        return self.keycloak.url


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    smtp_port = free_port()
    mail, smtp = start_sink(port=smtp_port)
    portal_port = free_port()
    portal_url = f"http://localhost:{portal_port}"
    oidc_secret = secrets.token_urlsafe(24)
    admin_secret = secrets.token_urlsafe(24)
    bootstrap_secret = secrets.token_urlsafe(24)
    server = KeycloakServer(
        data_dir=tmp_path_factory.mktemp("keycloak-data"),
        http_port=free_port(),
        management_port=free_port(),
        bootstrap_client_secret=bootstrap_secret,
        realm_env={
            "COLLECTE_PORTAL_URL": portal_url,
            "COLLECTE_OIDC_CLIENT_SECRET": oidc_secret,
            "COLLECTE_ADMIN_CLIENT_SECRET": admin_secret,
            "COLLECTE_SMTP_HOST": "127.0.0.1",
            "COLLECTE_SMTP_PORT": str(smtp_port),
        },
    )
    server.start()
    try:
        startup = server.wait_ready()
        print(f"\nKeycloak prêt en {startup:.1f} s (journal : {server.log_file})")
        admin = admin_client(server.url, server.bootstrap_client_id, bootstrap_secret)
        provision(admin)

        from portal import create_app

        portal_config = {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "KEYCLOAK_URL": server.url,
            "OIDC_CLIENT_SECRET": oidc_secret,
            "ADMIN_CLIENT_SECRET": admin_secret,
            "SESSION_COOKIE_SECURE": False,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_port,
            "SUPPORT_EMAIL": SUPPORT_EMAIL,
        }
        app = create_app(portal_config)
        portal: BaseWSGIServer = make_server("127.0.0.1", portal_port, app, threaded=True)
        threading.Thread(target=portal.serve_forever, daemon=True).start()
        yield Platform(server, admin, mail, portal_url, portal_config, startup)
        portal.shutdown()
    finally:
        server.stop()
        smtp.stop()


@pytest.fixture
def adherent(platform: Platform) -> Callable[..., str]:
    """Create the group of an adherent (test set-up); return its SIREN."""

    def create(
        siren: str, name: str = "Commune d'Essai", lots: tuple[str, ...] = ("1", "2")
    ) -> str:
        admin = platform.admin
        try:
            groupement = admin.get_group_by_path("/GRP-ESSAI")
        except KeycloakGetError:
            admin.create_group({"name": "GRP-ESSAI"})
            groupement = admin.get_group_by_path("/GRP-ESSAI")
        try:
            admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
        except KeycloakGetError:
            admin.create_group(
                {"name": siren, "attributes": {"raisonSociale": [name], "lots": list(lots)}},
                parent=groupement["id"],
            )
        return siren

    return create


@pytest.fixture
def unique_email() -> Callable[[str], str]:
    def make(prefix: str = "interlocuteur") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}@exemple-adherent.fr"

    return make


@pytest.fixture
def create_person(platform: Platform, unique_email: Callable[[str], str]) -> Callable[..., str]:
    """Create a person straight through the Admin API (test set-up only); return their id."""

    def create(
        *,
        collecte: list[str] | None = None,
        technique: list[str] | None = None,
        email: str | None = None,
        first_name: str = "Camille",
        last_name: str = "Martin",
    ) -> str:
        attributes: dict[str, Any] = {}
        if collecte:
            attributes["collecte"] = collecte
        if technique:
            attributes["technique"] = technique
        return str(
            platform.admin.create_user(
                {
                    "email": email or unique_email("interlocuteur"),
                    "firstName": first_name,
                    "lastName": last_name,
                    "enabled": True,
                    "attributes": attributes,
                }
            )
        )

    return create


def _launch_browser() -> Any:
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    return driver, browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    driver, chromium = _launch_browser()
    yield chromium
    chromium.close()
    driver.stop()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


@pytest.fixture
def activated_person(platform: Platform, create_person: Callable[..., str]) -> Callable[..., str]:
    """A person whose client space is already active (test shortcut for the invitation journey,
    which test_invitation covers through the real pages); returns their e-mail."""

    def activate(password: str, **attributes: Any) -> str:
        person_id = create_person(**attributes)
        platform.admin.set_user_password(person_id, password, temporary=False)
        platform.admin.update_user(person_id, {"requiredActions": [], "emailVerified": True})
        return str(platform.admin.get_user(person_id)["email"])

    return activate
