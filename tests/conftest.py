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
from keycloak.exceptions import KeycloakGetError

from collecte_kc.demo import ADHERENTS
from collecte_kc.sandbox import CHROMIUM, CHROMIUM_ARGS, Sandbox, sandbox
from portal import create_app
from portal.core.keycloak.gateway import KeycloakGateway

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


# The tests call it "platform": the whole throwaway platform of one test session.
Platform = Sandbox


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
        _make_adherent(platform, siren, name, lots)
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


DEMO_NAMES = {adherent.siren: adherent.raison_sociale for adherent in ADHERENTS}


def ensure_adherents(platform: Platform, values: list[str]) -> None:
    """The adherent group of each SIREN of these `SIREN/lot` values, made in /GRP-ESSAI (lots 1,
    2 and those named) when no adherent has that SIREN (test set-up)."""
    gateway = KeycloakGateway.from_config(platform.portal_config)
    lots: dict[str, set[str]] = {}
    for value in values:
        siren, _, lot = value.partition("/")
        lots.setdefault(siren, {"1", "2"}).add(lot)
    for siren, named in sorted(lots.items()):
        if gateway.adherent(siren) is None:
            # a SIREN of the demo data gets its name there: tests that make it later, by
            # that name, find it as they expect whichever test ran first
            name = DEMO_NAMES.get(siren, "Commune d'Essai")
            _make_adherent(platform, siren, name, tuple(sorted(named)))


def _make_adherent(platform: Platform, siren: str, name: str, lots: tuple[str, ...]) -> None:
    admin = platform.admin
    try:
        groupement = admin.get_group_by_path("/GRP-ESSAI")
    except KeycloakGetError:
        admin.create_group({"name": "GRP-ESSAI"}, skip_exists=True)
        groupement = admin.get_group_by_path("/GRP-ESSAI")
    try:
        admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
    except KeycloakGetError:
        admin.create_group(
            {"name": siren, "attributes": {"raisonSociale": [name], "lots": list(lots)}},
            parent=groupement["id"],
            skip_exists=True,
        )


def join_adherents(platform: Platform, person_id: str, values: list[str]) -> None:
    """Put the person in the adherent group of each SIREN of these `SIREN/lot` values (test
    set-up, through the Admin API), where the group exists."""
    gateway = KeycloakGateway.from_config(platform.portal_config)
    for siren in sorted({value.partition("/")[0] for value in values}):
        found = gateway.adherent(siren)
        if found is not None:
            platform.admin.group_user_add(person_id, found.group_id)


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
