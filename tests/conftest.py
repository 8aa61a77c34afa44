"""Shared fixtures: one real Keycloak, SMTP sink and portal per test session.

Unit tests never ask for these fixtures, so they run without any server.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collecte_kc.sandbox import CHROMIUM, CHROMIUM_ARGS, sandbox
from portal import create_app
from portal.core.keycloak.gateway import KeycloakGateway
from tests.helpers.platform import Platform, ensure_adherents, join_adherents, make_adherent

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with sandbox(tmp_path_factory.mktemp("keycloak-data"), create_app) as started:
        print(
            f"\nKeycloak prêt en {started.startup_seconds:.1f} s "
            f"(journal : {started.keycloak.log_file})"
        )
        yield started
        from tests.helpers.signin import delete_shared_clients

        delete_shared_clients(started.admin, started.keycloak_url)


@pytest.fixture
def gateway(platform: Platform) -> KeycloakGateway:
    """The portal's own gateway, talking to the session's Keycloak."""
    return KeycloakGateway.from_config(platform.portal_config)


@pytest.fixture
def adherent(platform: Platform) -> Callable[..., str]:
    """Create the group of an adherent (test set-up); return its SIREN."""

    def create(
        siren: str, name: str = "Commune d'Essai", lots: tuple[str, ...] = ("1", "2")
    ) -> str:
        make_adherent(platform, siren, name, lots)
        return siren

    return create


@pytest.fixture
def own_temporary_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The portal's pending uploads and import jobs (`portal.web.imports.jobs.folder`, under the
    temporary folder) go to this test's folder, not the machine's; returns that temporary folder.
    The session's portal runs in this process, so this holds for it too."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


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
        join: bool = True,
    ) -> str:
        """``join``: also make them a member of the adherent group of each SIREN their values
        name, where that group exists (a function counts only with it: portal.core.authority); for
        a `collecte` value, the group is made first when no adherent has that SIREN (in
        /GRP-ESSAI, lots 1, 2 and the value's), so that a collection contact may sign in
        (Keycloak's flows apply the same rule)."""
        attributes: dict[str, Any] = {}
        if collecte:
            attributes["collecte"] = collecte
        if technique:
            attributes["technique"] = technique
        person_id = str(
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
        if join:
            ensure_adherents(platform, collecte or [])
            join_adherents(platform, person_id, [*(collecte or ()), *(technique or ())])
        return person_id

    return create


def _launch_browser() -> Any:
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
