"""CGU versions: each acceptance records the version; a new version is accepted again at sign-in.

The version in force is set the way it is in production, by the provisioning with another
`COLLECTE_CGU_VERSION`; the fixture puts the session's version back whatever happens, since
every other test shares the realm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from collecte_kc.provision import provision
from portal.core.domain import Change, Function, Scope
from portal.core.notify import Mailer
from portal.core.services.terms_notice import TermsNotices
from tests.e2e.journeys import (
    PASSWORD,
    accept_terms,
    choose_password,
    complete_invitation,
    expect_signed_in,
    invite,
    mail_link,
    sign_in,
    sign_out,
    start_invitation,
)
from tests.helpers.claims import MemoryClaims
from tests.helpers.platform import ensure_adherents

SCOPE = "213100019/1"
REFUSAL = "n'est pas identifiée comme celle d'un interlocuteur de collecte"


def _realm_version(platform: Any) -> str:
    return str(platform.admin.get_realm("collecte")["attributes"]["cguVersion"])


@pytest.fixture
def publish_cgu(platform: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Publish a CGU version through the real provisioning; the one in force comes back after."""
    original = _realm_version(platform)

    def publish(version: str) -> None:
        monkeypatch.setenv("COLLECTE_CGU_VERSION", version)
        provision(platform.admin)

    yield publish
    # Before monkeypatch's own teardown, which would only restore the variable.
    publish(original)
    assert _realm_version(platform) == original


def _attributes(platform: Any, person_id: str) -> dict[str, list[str]]:
    return dict(platform.admin.get_user(person_id).get("attributes") or {})


def _terms_page_version(page: Any) -> str:
    page.wait_for_selector("#kc-accept")
    return str(page.locator("#collecte-cgu-version").inner_text())


def test_our_terms_action_is_the_one_keycloak_uses(platform):
    """Keycloak keeps one factory per provider id, the highest order(): ours says 1."""
    actions = platform.admin.get_server_info()["providers"]["required-action"]["providers"]
    assert actions["TERMS_AND_CONDITIONS"]["order"] == 1
    assert actions["UPDATE_PASSWORD"]["order"] == 0


def test_a_new_cgu_version_is_accepted_again_at_the_next_sign_in(
    platform, gateway, adherent, create_person, publish_cgu, page
):
    current = _realm_version(platform)
    adherent(Scope.parse(SCOPE).siren)  # type: ignore[union-attr]
    person_id = create_person(collecte=[SCOPE])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)
    complete_invitation(page, platform, mail_link(platform.mail, email), email)
    accepted = _attributes(platform, person_id)
    assert accepted["cguVersionAcceptee"] == [current]
    first_date = int(accepted["terms_and_conditions"][0])
    assert gateway.person(person_id).terms_version == current  # type: ignore[union-attr]
    sign_out(page)

    realm_before = platform.admin.get_realm("collecte")
    publish_cgu("2099-01")
    realm_after = platform.admin.get_realm("collecte")
    assert realm_after["attributes"] == {**realm_before["attributes"], "cguVersion": "2099-01"}
    assert {k: v for k, v in realm_after.items() if k != "attributes"} == {
        k: v for k, v in realm_before.items() if k != "attributes"
    }

    # Support sees, with the portal's own account, that the accepted version is outdated.
    diagnosis = gateway.diagnosis(email)
    assert diagnosis.current_terms_version == "2099-01" and diagnosis.terms_outdated
    assert not diagnosis.can_sign_in

    sign_in(page, platform.portal_url, email, PASSWORD)
    assert _terms_page_version(page) == "Version 2099-01 des CGU"
    assert "Les CGU ont été mises à jour" in page.locator("#collecte-cgu-mise-a-jour").inner_text()
    assert not page.url.startswith(platform.portal_url)
    assert "TERMS_AND_CONDITIONS" in platform.admin.get_user(person_id)["requiredActions"]

    # Published again while the page was open: accepting records nothing, the newest is shown.
    publish_cgu("2099-02")
    page.click("#kc-accept")
    page.wait_for_selector("text=Version 2099-02 des CGU")
    assert _attributes(platform, person_id)["cguVersionAcceptee"] == [current]

    accept_terms(page)
    expect_signed_in(page, platform.portal_url, email)
    person = platform.admin.get_user(person_id)
    assert person["requiredActions"] == []
    assert person["attributes"]["cguVersionAcceptee"] == ["2099-02"]
    assert int(person["attributes"]["terms_and_conditions"][0]) >= first_date
    diagnosis = gateway.diagnosis(email)
    assert not diagnosis.terms_outdated and diagnosis.can_sign_in

    # Signing in again asks nothing more.
    sign_out(page)
    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)


def test_a_technical_contact_is_asked_only_once_made_collection_contact(
    platform, gateway, create_person, publish_cgu, page
):
    current = _realm_version(platform)
    # A technical contact who followed an invitation: space activated, version in force accepted;
    # a member of the adherent's group (made first if no test has made it yet), so that the
    # function added below is all they lack to be a collection contact.
    ensure_adherents(platform, [SCOPE])
    person_id = create_person(technique=[SCOPE])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)
    start_invitation(page, mail_link(platform.mail, email))
    choose_password(page, PASSWORD)
    assert _terms_page_version(page) == f"Version {current} des CGU"
    assert page.locator("#collecte-cgu-mise-a-jour").count() == 0
    accept_terms(page)
    page.wait_for_selector("#kc-info-message")
    assert _attributes(platform, person_id)["cguVersionAcceptee"] == [current]

    publish_cgu("2099-03")

    # No access, and no CGU to accept either: nothing is added to the person.
    sign_in(page, platform.portal_url, email, PASSWORD)
    page.wait_for_selector("text=" + REFUSAL)
    assert platform.admin.get_user(person_id)["requiredActions"] == []

    # Made collection contact through the portal (whose writes keep Keycloak's CGU record): the
    # new version is asked at the next sign-in.
    gateway.update_contact(
        person_id,
        Scope("213100019", "1"),
        {Function.COLLECTE: True},
        Change.now("support@collecte.test", "ajout interlocuteur de collecte"),
    )
    assert _attributes(platform, person_id)["cguVersionAcceptee"] == [current]
    sign_in(page, platform.portal_url, email, PASSWORD)
    assert _terms_page_version(page) == "Version 2099-03 des CGU"
    accept_terms(page)
    expect_signed_in(page, platform.portal_url, email)
    assert _attributes(platform, person_id)["cguVersionAcceptee"] == ["2099-03"]


def test_declining_a_new_version_keeps_the_earlier_acceptance_and_gives_no_session(
    platform, gateway, create_person, publish_cgu, page
):
    """Declining version N+1 withdraws nothing from version N: its version and date stay
    recorded (the proof of what the person accepted), the action stays pending, no session."""
    current = _realm_version(platform)
    person_id = create_person(collecte=[SCOPE])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)
    complete_invitation(page, platform, mail_link(platform.mail, email), email)
    accepted = _attributes(platform, person_id)
    assert accepted["cguVersionAcceptee"] == [current]
    sign_out(page)

    publish_cgu("2099-04")
    sign_in(page, platform.portal_url, email, PASSWORD)
    assert _terms_page_version(page) == "Version 2099-04 des CGU"
    page.click("#kc-decline")
    # Keycloak fails the sign-in and sends the browser back to the portal, which says so.
    page.wait_for_selector("text=La connexion n’a pas abouti")

    after = platform.admin.get_user(person_id)
    assert after["attributes"]["cguVersionAcceptee"] == [current]
    assert after["attributes"]["terms_and_conditions"] == accepted["terms_and_conditions"]
    assert "TERMS_AND_CONDITIONS" in after["requiredActions"]
    assert platform.admin.get_sessions(person_id) == []
    assert page.locator("#utilisateur-connecte").count() == 0
    diagnosis = gateway.diagnosis(email)
    assert diagnosis.terms_outdated and not diagnosis.can_sign_in

    # The next sign-in asks the new version again; the portal is never reached meanwhile.
    sign_in(page, platform.portal_url, email, PASSWORD)
    assert _terms_page_version(page) == "Version 2099-04 des CGU"
    assert not page.url.startswith(platform.portal_url)


def test_a_new_version_is_announced_by_mail_once_to_whoever_must_accept_it(
    platform, gateway, adherent, create_person, publish_cgu, page
):
    adherent(Scope.parse(SCOPE).siren)  # type: ignore[union-attr]
    accepted_id = create_person(collecte=[SCOPE])
    accepted = platform.admin.get_user(accepted_id)["email"]
    invite(gateway, platform, accepted_id)
    complete_invitation(page, platform, mail_link(platform.mail, accepted), accepted)
    never_id = create_person(collecte=[SCOPE])  # invited by nobody: nothing accepted yet
    never = platform.admin.get_user(never_id)["email"]
    publish_cgu("2099-05")

    # Everyone else in the shared realm counts as mailed already: other tests' mailboxes stay
    # as they are (the claims are the run's real ones).
    others = {
        f"cgu-annonce:2099-05:{p.id}"
        for p in gateway.everyone()
        if p.id not in {accepted_id, never_id}
    }
    claims = MemoryClaims(others)
    login = f"{platform.portal_url}/connexion"
    mailer = Mailer({**platform.portal_config, "MAIL_FROM": "collecte@collecte.test"})
    notices = TermsNotices(gateway, mailer, claims, login)
    before = platform.mail.count_for(accepted)

    assert notices.announce() == 1
    notice = platform.mail.wait_for(accepted, count=before + 1)
    assert notice["Subject"] == "Nouvelles conditions générales d’utilisation à accepter"
    text = notice.get_body(("plain",)).get_content()
    assert "version 2099-05" in text and login in text and "support de la plateforme" in text
    # Once announced, nobody is mailed again, and the person never asked is not mailed at all.
    assert notices.announce() == 0 and claims.is_set("cgu-annoncee:2099-05")
    assert platform.mail.count_for(accepted) == before + 1
    assert platform.mail.count_for(never) == 0
