"""Admin API calls per page, counted against the real Keycloak (issue 14), and authorization
that stays exact at the next request: a revoked function or role, a disabled account and a new
principal are seen by the very next page, whatever the portal kept.

The portal runs in-process (Flask test client) on the session's Keycloak; the session is written
as the OIDC callback writes it. Every HTTP request the portal's code sends through ``requests``
is counted by kind: Admin API calls, service-account token fetches, anything else (discovery,
signing keys)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from portal import create_app
from portal.core.domain import Change, Scope
from portal.core.keycloak.gateway import KeycloakGateway
from portal.web.auth import USER_KEY, SessionUser
from tests.helpers.read_cache import realm_changed
from tests.helpers.realm_data import fresh_siren


@dataclass
class Calls:
    """HTTP requests sent by the portal's code, by kind."""

    seen: Counter[str]

    def reset(self) -> None:
        self.seen.clear()

    @property
    def admin(self) -> int:
        return self.seen["admin"]

    @property
    def tokens(self) -> int:
        return self.seen["token"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    counted = Calls(Counter())
    send = requests.Session.send

    def counting(session: requests.Session, request: Any, **kwargs: Any) -> Any:
        url = str(request.url)
        kind = (
            "admin"
            if "/admin/realms/" in url
            else "token"
            if url.split("?")[0].endswith("/protocol/openid-connect/token")
            else "other"
        )
        counted.seen[kind] += 1
        return send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting)
    return counted


@pytest.fixture
def portal(platform: Any) -> Iterator[FlaskClient]:
    """The portal with its read cache on, sharing the session's portal store: where Keycloak's
    change notifications land (``ChangeNotifier``) and where the portal's own writes mark the
    realm changed."""
    app = create_app({**platform.portal_config, "TESTING": True})
    with app.test_client() as client:
        yield client


def sign_in(client: FlaskClient, platform: Any, person_id: str) -> None:
    """As the OIDC callback does (no Keycloak call)."""
    user = platform.admin.get_user(person_id)
    session_user = SessionUser(
        sub=person_id,
        email=user["email"],
        given_name=user.get("firstName", ""),
        family_name=user.get("lastName", ""),
        expires_at=int(time.time()) + 300,
        signed_in_at=int(time.time()),
    )
    with client.session_transaction() as sess:
        sess[USER_KEY] = session_user.to_session()


def support_person(platform: Any, create_person: Callable[..., str]) -> str:
    person_id = create_person()
    role = platform.admin.get_realm_role("support")
    platform.admin.assign_realm_roles(person_id, [role])
    return person_id


def counted(client: FlaskClient, calls: Calls, url: str, status: int = 200) -> tuple[int, int]:
    """(Admin API calls, token fetches) of one request, warm; nothing else (discovery document,
    signing keys) may be fetched by a page."""
    calls.reset()
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    assert calls.seen["other"] == 0, (url, calls.seen)
    return calls.admin, calls.tokens


# --- calls per page ---------------------------------------------------------------------------


def test_calls_per_page(
    platform: Any,
    portal: FlaskClient,
    calls: Calls,
    create_person: Callable[..., str],
    gateway: KeycloakGateway,
) -> None:
    siren = fresh_siren()
    scope = f"{siren}/1"
    member = create_person(collecte=[scope])
    technician = create_person(technique=[scope])
    gateway.ensure_principal(Scope.parse(scope) or Scope(siren, "1"), member)
    sign_in(portal, platform, member)
    portal.get("/espace/")  # warm: the service-account token
    pages = {
        "accueil /espace/": "/espace/",
        "SIREN/lot": f"/espace/{siren}/1/",
        "ajout d'un contact": f"/espace/{siren}/1/contacts/nouveau",
        "modification d'un contact": f"/espace/{siren}/1/contacts/{technician}/modifier",
    }
    figures = {name: cold(portal, calls, platform, url) for name, url in pages.items()}

    sign_in(portal, platform, support_person(platform, create_person))
    support_pages = {
        "file du support": "/support/",
        "diagnostic": f"/support/diagnostic?email={platform.admin.get_user(member)['email']}",
        "suivi d'un groupement": "/coordination/GRP-ESSAI/",
    }
    figures.update(
        {name: cold(portal, calls, platform, url) for name, url in support_pages.items()}
    )
    # every page twice more, the realm unchanged: read once more, then kept
    warm: dict[str, tuple[int, int]] = {}
    for _ in range(2):
        warm.update({name: counted(portal, calls, url) for name, url in support_pages.items()})
    sign_in(portal, platform, member)
    for _ in range(2):
        warm.update({name: counted(portal, calls, url) for name, url in pages.items()})
    for name, (admin, tokens) in figures.items():
        print(f"{name:30} {admin:3} appels à froid, {warm[name][0]} ensuite, {tokens} jeton")
    assert all(tokens == 0 for _, tokens in [*figures.values(), *warm.values()])
    # Read once after a change, one call each through PageReadResource (before issue 14: 4, 5,
    # 2, 5); the edit form reads the contact too (their groups and roles decide what may be
    # edited). Then nothing until the realm changes.
    assert figures["accueil /espace/"][0] == 1
    assert figures["SIREN/lot"][0] == 1
    assert figures["ajout d'un contact"][0] == 1
    assert figures["modification d'un contact"][0] == 2
    # The diagnosis too: a lock is told by Keycloak (tests/integration/test_read_cache.py).
    assert [admin for admin, _ in warm.values()] == [0] * len(warm), warm


def cold(portal: FlaskClient, calls: Calls, platform: Any, url: str) -> tuple[int, int]:
    """(Admin API calls, token fetches) of a page right after a change in the realm."""
    realm_changed(platform.portal_config)
    return counted(portal, calls, url)


# --- authorization exact at the next request -------------------------------------------------


@pytest.fixture
def member_page(
    platform: Any, portal: FlaskClient, create_person: Callable[..., str]
) -> tuple[str, str]:
    """A collection contact signed in on the portal, their SIREN/lot page open; (id, URL)."""
    siren = fresh_siren()
    person_id = create_person(collecte=[f"{siren}/1"])
    sign_in(portal, platform, person_id)
    url = f"/espace/{siren}/1/"
    assert portal.get(url).status_code == 200
    return person_id, url


def test_a_revoked_function_is_refused_at_the_next_request(
    portal: FlaskClient, gateway: KeycloakGateway, member_page: tuple[str, str]
) -> None:
    person_id, url = member_page
    scope = Scope.parse(url.removeprefix("/espace/").rstrip("/"))
    assert scope is not None
    gateway.revoke_collection(person_id, scope, Change.now("support@essai.fr", "retrait"))
    assert portal.get(url).status_code == 404
    assert str(scope) not in portal.get("/espace/").get_data(as_text=True)


def test_leaving_the_adherent_group_is_refused_at_the_next_request(
    portal: FlaskClient, gateway: KeycloakGateway, member_page: tuple[str, str]
) -> None:
    person_id, url = member_page
    adherent = gateway.adherent(url.split("/")[2])
    assert adherent is not None
    gateway.leave_adherent(person_id, adherent)
    assert portal.get(url).status_code == 404


def test_a_disabled_account_is_refused_at_the_next_request(
    platform: Any, portal: FlaskClient, member_page: tuple[str, str]
) -> None:
    """Even when the portal session outlives it (the test's session names no Keycloak session
    that a back-channel logout could end), the next page is refused."""
    person_id, url = member_page
    platform.admin.update_user(person_id, {"enabled": False})
    assert portal.get(url).status_code == 404
    assert portal.get("/espace/").status_code == 404


def test_a_new_principal_is_shown_on_the_next_page(
    platform: Any,
    portal: FlaskClient,
    gateway: KeycloakGateway,
    create_person: Callable[..., str],
    member_page: tuple[str, str],
) -> None:
    _, url = member_page
    scope = Scope.parse(url.removeprefix("/espace/").rstrip("/"))
    assert scope is not None
    colleague = create_person(collecte=[str(scope)], last_name="Principal-Nouveau")
    assert "Principal-Nouveau" not in principal_section(portal.get(url).get_data(as_text=True))
    assert gateway.ensure_principal(scope, colleague)
    assert "Principal-Nouveau" in principal_section(portal.get(url).get_data(as_text=True))


def principal_section(page: str) -> str:
    start = page.index('id="principal"')
    return page[start : page.index("</section>", start)]


def test_a_revoked_support_role_is_refused_at_the_next_request(
    platform: Any, portal: FlaskClient, create_person: Callable[..., str]
) -> None:
    person_id = support_person(platform, create_person)
    sign_in(portal, platform, person_id)
    assert portal.get("/support/").status_code == 200
    platform.admin.delete_realm_roles_of_user(person_id, [platform.admin.get_realm_role("support")])
    assert portal.get("/support/").status_code == 403
