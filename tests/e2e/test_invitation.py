"""Invitation → activation of the client space → CGU → sign-in, through the real pages."""

from __future__ import annotations

from collecte_kc.mailsink import html_body, text_body
from portal.core.domain import Change, Function, Scope
from tests.e2e.journeys import (
    PASSWORD,
    choose_password,
    complete_invitation,
    invite,
    mail_link,
    sign_in,
    start_invitation,
)


def test_invitation_mail_is_french_and_says_what_the_link_does(platform, gateway, create_person):
    person_id = create_person(collecte=["213100019/1"])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)

    message = platform.mail.wait_for(email)
    assert "plateforme de collecte" in str(message["Subject"]).lower()
    for body in (text_body(message), html_body(message)):
        assert "mot de passe" in body
        assert "CGU" in body or "Conditions Générales d'Utilisation" in body
        assert "7 jours" in body
        assert "identifiant" in body


def test_invited_member_activates_accepts_cgu_and_signs_in(platform, gateway, create_person, page):
    person_id = create_person(collecte=["213100019/1"])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)

    complete_invitation(page, platform, mail_link(platform.mail, email), email)

    person = platform.admin.get_user(person_id)
    assert person["emailVerified"] is True
    assert person["requiredActions"] == []
    assert person["attributes"]["terms_and_conditions"]

    # A later change through the portal's gateway keeps the CGU acceptance Keycloak recorded.
    gateway.update_contact(
        person_id, Scope("213100019", "2"), {Function.TECHNIQUE: True}, Change.now("t@x.fr", "x")
    )
    after = gateway.person(person_id)
    assert after is not None and after.terms_accepted_at is not None
    assert after.holds(Function.COLLECTE, Scope("213100019", "1"))


def test_declining_the_cgu_leaves_no_access(platform, gateway, create_person, page):
    person_id = create_person(collecte=["213100019/1"])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)

    start_invitation(page, mail_link(platform.mail, email))
    choose_password(page, PASSWORD)
    page.wait_for_selector("#kc-decline")
    page.click("#kc-decline")
    page.wait_for_load_state()
    assert "terms_and_conditions" not in platform.admin.get_user(person_id).get("attributes", {})

    # Signing in later brings the CGU back; the portal is never reached without accepting.
    sign_in(page, platform.portal_url, email, PASSWORD)
    page.wait_for_selector("#kc-accept")
    assert not page.url.startswith(platform.portal_url)
    assert "TERMS_AND_CONDITIONS" in platform.admin.get_user(person_id)["requiredActions"]
