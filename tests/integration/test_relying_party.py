"""A relying party nobody here wrote, oauth2-proxy (pinned, built from the Go module proxy by
`./keycloak/bootstrap.sh --browser`), registered with our command, in front of an upstream that
echoes what it receives; people sign in with Keycloak's own pages.

oauth2-proxy v7.15.6 has no back-channel logout endpoint (`oauth2-proxy --help`: only
`--backend-logout-url`, its own call to Keycloak at sign-out): a session ended in Keycloak ends for
it at its next refresh (`--cookie-refresh`), tested here; Keycloak's back-channel logout is shown
on the demo application (tests/integration/test_demo_application.py).

The `perimetres` / `version_cgu` claims come from the realm's client scope `perimetres-collecte`
(a Keycloak extension): the tests reading them need it in the realm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from collecte_kc.applications import PERIMETERS_SCOPE, application, read_secret, register
from portal.core.domain import Change, Scope
from tests.helpers.ports import free_port
from tests.helpers.realm_data import fresh_siren
from tests.helpers.relying_party import (
    audiences,
    echo_upstream,
    jwt_claims,
    oauth2_proxy,
    oauth2_proxy_arguments,
    poll,
    require_perimeters_scope,
    sign_in_through,
)
from tests.helpers.signin import LOGIN_FORM, LoopbackBrowser, SignInRefused

pytestmark = pytest.mark.keycloak

PASSWORD = "Essai-Application-Tierce-2026!"  # test set-up only
REFUSED = "n'est pas identifiée comme celle d'un interlocuteur de collecte"
SUPPORT = "support@collecte.test"


@dataclass(frozen=True)
class Proxy:
    url: str
    client_id: str


def scope_asked(platform: Any) -> str:
    """What the application asks for. Keycloak refuses a sign-in asking for a scope it does not
    know (invalid_scope): without the realm's perimeters scope, the rest still runs."""
    names = {s["name"] for s in platform.admin.get_client_scopes()}
    return "openid email profile" + (f" {PERIMETERS_SCOPE}" if PERIMETERS_SCOPE in names else "")


@pytest.fixture(scope="module")
def proxy(platform: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    app = application(
        "oauth2-proxy (essai)",
        f"oauth2-proxy-essai-{port}",
        [f"{origin}/oauth2/callback"],
        [f"{origin}/"],
    )
    outcome = register(platform.admin, app)
    try:
        with echo_upstream() as upstream:
            arguments = oauth2_proxy_arguments(
                keycloak_url=platform.keycloak_url,
                client_id=app.client_id,
                client_secret=read_secret(platform.admin, app.client_id),
                port=port,
                upstream=upstream,
                scope=scope_asked(platform),
            )
            log = tmp_path_factory.mktemp("oauth2-proxy") / "oauth2-proxy.log"
            with oauth2_proxy(arguments, port, log) as url:
                yield Proxy(url, app.client_id)
    finally:
        platform.admin.delete_client(outcome.uuid)


def _echo(response: requests.Response) -> dict[str, Any] | None:
    """What the upstream received, when the answer is the upstream's."""
    if response.status_code != 200 or not response.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        return None
    return dict(response.json()["headers"])


def _id_token(headers: dict[str, Any]) -> dict[str, Any]:
    scheme, _, token = headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    return jwt_claims(token)


@pytest.fixture
def contact(
    platform: Any, adherent: Callable[..., str], activated_person: Callable[..., str]
) -> Callable[..., tuple[str, str]]:
    """A collection contact with a password, on fresh adherents; returns (id, e-mail)."""

    def make(**attributes: Any) -> tuple[str, str]:
        if "collecte" not in attributes and "technique" not in attributes:
            attributes["collecte"] = [f"{adherent(fresh_siren())}/1"]
        email = activated_person(PASSWORD, **attributes)
        return str(platform.admin.get_user_id(email)), email

    return make


def test_a_collection_contact_reaches_the_application_with_tokens_made_for_it(proxy, contact):
    _, email = contact()
    _, response = sign_in_through(proxy.url + "/", email, PASSWORD)
    headers = _echo(response)
    assert headers is not None, response.text[:500]
    assert headers["X-Forwarded-Email"] == email
    id_token = _id_token(headers)
    assert audiences(id_token) == [proxy.client_id]
    assert id_token["email"] == email
    # the application's API would check this: the access token is made for it (audience mapper)
    assert proxy.client_id in audiences(jwt_claims(headers["X-Forwarded-Access-Token"]))


def test_the_tokens_name_exactly_their_siren_and_lots(
    platform, proxy, adherent, create_person, gateway
):
    """Needs the realm's `perimetres-collecte` scope (Keycloak extension)."""
    require_perimeters_scope(platform)
    first = adherent(fresh_siren(), "Commune de Premier-Lot", ("1", "2"))
    second = adherent(fresh_siren(), "Syndicat de Second-Lot", ("1",))
    technical = adherent(fresh_siren(), "Commune Technique", ("1",))
    outside = adherent(fresh_siren(), "Commune Sans Appartenance", ("1",))
    person_id = create_person(
        collecte=[f"{first}/1", f"{first}/2", f"{second}/1", f"{second}/2"],
        technique=[f"{technical}/1"],
    )
    # a `collecte` value for an adherent whose group the person is not a member of: no right
    user = platform.admin.get_user(person_id)
    collecte = [*user["attributes"]["collecte"], f"{outside}/1"]
    platform.admin.update_user(
        person_id, {**user, "attributes": {**user["attributes"], "collecte": collecte}}
    )
    gateway.ensure_principal(Scope(first, "1"), person_id)
    platform.admin.set_user_password(person_id, PASSWORD, temporary=False)
    # the CGU accepted on Keycloak's page on the way in: version_cgu is the version accepted
    platform.admin.update_user(
        person_id, {"requiredActions": ["TERMS_AND_CONDITIONS"], "emailVerified": True}
    )
    email = platform.admin.get_user(person_id)["email"]

    _, response = sign_in_through(proxy.url + "/", email, PASSWORD)
    headers = _echo(response)
    assert headers is not None, response.text[:500]
    names = {first: "Commune de Premier-Lot", second: "Syndicat de Second-Lot"}
    expected = sorted(
        (
            {
                "siren": s,
                "lot": lot,
                "raisonSociale": names[s],
                "principal": (s, lot) == (first, "1"),
            }
            for s, lot in ((first, "1"), (first, "2"), (second, "1"))
        ),
        key=lambda p: (p["siren"], p["lot"]),
    )
    claims = _id_token(headers)
    assert claims["perimetres"] == expected
    version = platform.admin.get_realm("collecte")["attributes"]["cguVersion"]
    assert claims["version_cgu"] == version
    # the same at the userinfo endpoint, with the access token the application received
    userinfo = requests.get(
        f"{platform.keycloak_url}/realms/collecte/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {headers['X-Forwarded-Access-Token']}"},
        timeout=10,
    ).json()
    assert userinfo["perimetres"] == expected and userinfo["version_cgu"] == version


def test_a_technical_contact_and_a_former_collection_contact_do_not_get_in(
    proxy, contact, adherent, gateway
):
    siren = adherent(fresh_siren())
    _, technical = contact(technique=[f"{siren}/1"])
    former_id, former = contact(collecte=[f"{siren}/2"])
    gateway.revoke_collection(former_id, Scope(siren, "2"), Change.now(SUPPORT, "retrait"))
    for email in (technical, former):
        with pytest.raises(SignInRefused) as refused:
            sign_in_through(proxy.url + "/", email, PASSWORD)
        assert REFUSED in str(refused.value), email


def test_a_collecte_value_without_the_adherent_group_does_not_get_in(proxy, contact, adherent):
    """Needs the Keycloak half: the sign-in refused without membership of the adherent group."""
    _, email = contact(collecte=[f"{adherent(fresh_siren())}/1"], join=False)
    with pytest.raises(SignInRefused) as refused:
        sign_in_through(proxy.url + "/", email, PASSWORD)
    assert REFUSED in str(refused.value)


def test_the_next_refresh_drops_a_function_removed_by_support(
    platform, proxy, contact, adherent, gateway
):
    """Needs the realm's `perimetres-collecte` scope (Keycloak extension)."""
    require_perimeters_scope(platform)
    siren = adherent(fresh_siren())
    person_id, email = contact(collecte=[f"{siren}/1", f"{siren}/2"])
    browser, response = sign_in_through(proxy.url + "/", email, PASSWORD)
    headers = _echo(response)
    assert headers is not None
    assert [p["lot"] for p in _id_token(headers)["perimetres"]] == ["1", "2"]

    gateway.revoke_collection(person_id, Scope(siren, "2"), Change.now(SUPPORT, "retrait"))

    def lots_after_refresh() -> list[str] | None:
        seen = _echo(browser.get(proxy.url + "/", timeout=10))
        assert seen is not None, "la session de l'application a pris fin"
        lots = [p["lot"] for p in _id_token(seen)["perimetres"]]
        return lots if lots != ["1", "2"] else None

    assert poll(lots_after_refresh, "le lot 2 retiré du jeton") == ["1"]


def test_a_session_ended_in_keycloak_ends_for_the_application_at_its_next_refresh(
    platform, proxy, contact
):
    person_id, email = contact()
    browser, response = sign_in_through(proxy.url + "/", email, PASSWORD)
    assert _echo(response) is not None
    platform.admin.user_logout(person_id)  # « Déconnecter » of the support / admin console

    def refused() -> requests.Response | None:
        answer = browser.get(proxy.url + "/", allow_redirects=False, timeout=10)
        return answer if _echo(answer) is None else None

    poll(refused, "la session d'oauth2-proxy terminée")
    page = browser.get(proxy.url + "/", timeout=10)  # back to Keycloak's login form
    assert LOGIN_FORM.search(page.text), page.text[:500]


def test_signing_out_of_the_application_ends_the_keycloak_session(platform, proxy, contact):
    person_id, email = contact()
    browser, _ = sign_in_through(proxy.url + "/", email, PASSWORD)
    assert platform.admin.get_sessions(person_id)
    browser.get(proxy.url + "/oauth2/sign_out", allow_redirects=False, timeout=10)
    poll(
        lambda: True if not platform.admin.get_sessions(person_id) else None,
        "la session Keycloak terminée par --backend-logout-url",
    )
    assert isinstance(browser, LoopbackBrowser)
    assert _echo(browser.get(proxy.url + "/", allow_redirects=False, timeout=10)) is None
