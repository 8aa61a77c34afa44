"""The second factor in Chromium against the real Keycloak: the platform staff enrol an
authenticator app at their first sign-in and give its code at every sign-in (a wrong code is
refused); a security key or passkey (Chromium's virtual authenticator) is enrolled and then
signs in; a collection contact is never asked, unless they chose one themselves."""

from __future__ import annotations

from typing import Any

from tests.e2e.journeys import (
    PASSWORD,
    error_text,
    expect_signed_in,
    sign_in,
    sign_out,
    submit_login,
)
from tests.helpers.second_factor import (
    enrol_in_browser,
    give_code_in_browser,
    is_enrolled,
    pass_second_factor,
    wrong_code,
)

STAFF_PASSWORD = "Personnel-Essai-2026!"
CONTACT_OF = "213100019/1"


def staff_member(platform: Any, activated_person: Any, role: str = "support") -> str:
    email = activated_person(STAFF_PASSWORD, first_name="Sam", last_name="Personnel")
    person = platform.admin.get_users({"email": email, "exact": True})[0]
    platform.admin.assign_realm_roles(person["id"], [platform.admin.get_realm_role(role)])
    return str(email)


def user_id(platform: Any, email: str) -> str:
    return str(platform.admin.get_users({"email": email, "exact": True})[0]["id"])


def credential_types(platform: Any, email: str) -> list[str]:
    return sorted(c["type"] for c in platform.admin.get_credentials(user_id(platform, email)))


def test_support_enrols_an_app_then_gives_its_code_at_every_sign_in(
    platform, activated_person, page
):
    support = staff_member(platform, activated_person)
    sign_in(page, platform.portal_url, support, STAFF_PASSWORD)
    # First sign-in: no way in without enrolling, and the page is French.
    page.wait_for_selector("#kc-totp-settings-form")
    assert "Configurer votre application d'authentification" in error_text(page)
    assert "Impossible de scanner" in error_text(page)
    assert "second facteur" in error_text(page)
    enrol_in_browser(page, support)
    expect_signed_in(page, platform.portal_url, support)
    assert credential_types(platform, support) == ["otp", "password"]

    sign_out(page)
    sign_in(page, platform.portal_url, support, STAFF_PASSWORD)
    page.wait_for_selector("#kc-otp-login-form")
    assert page.locator("#kc-totp-settings-form").count() == 0
    page.fill("#otp", wrong_code(support))
    page.click("#kc-login")
    page.wait_for_selector("#kc-otp-login-form")
    assert "Code d'authentification incorrect" in error_text(page)
    assert "utilisateur-connecte" not in page.content()
    give_code_in_browser(page, support)
    expect_signed_in(page, platform.portal_url, support)


def test_a_coordinator_cannot_skip_the_enrolment(platform, activated_person, page):
    coordinator = staff_member(platform, activated_person, role="coordonnateur")
    sign_in(page, platform.portal_url, coordinator, STAFF_PASSWORD)
    page.wait_for_selector("#kc-totp-settings-form")
    # Going straight back to the portal starts a new sign-in that asks the same again.
    page.goto(f"{platform.portal_url}/connexion")
    page.wait_for_selector("#kc-form-login, #kc-totp-settings-form")
    if page.locator("#kc-form-login").count():
        submit_login(page, coordinator, STAFF_PASSWORD)
    page.wait_for_selector("#kc-totp-settings-form")
    assert credential_types(platform, coordinator) == ["password"]


def test_a_collection_contact_is_not_asked_for_a_second_factor(activated_person, platform, page):
    member = activated_person(PASSWORD, collecte=[CONTACT_OF])
    sign_in(page, platform.portal_url, member, PASSWORD)
    expect_signed_in(page, platform.portal_url, member)


def test_a_collection_contact_who_opts_in_is_asked_from_then_on(activated_person, platform, page):
    member = activated_person(PASSWORD, collecte=[CONTACT_OF])
    # The opt-in: Keycloak's required action CONFIGURE_TOTP (from the account console's
    # « Authentificateur », or set for them on request).
    platform.admin.update_user(user_id(platform, member), {"requiredActions": ["CONFIGURE_TOTP"]})
    sign_in(page, platform.portal_url, member, PASSWORD)
    page.wait_for_selector("#kc-totp-settings-form")
    enrol_in_browser(page, member)
    expect_signed_in(page, platform.portal_url, member)
    sign_out(page)
    sign_in(page, platform.portal_url, member, PASSWORD)
    pass_second_factor(page, member)
    expect_signed_in(page, platform.portal_url, member)


def virtual_authenticator(page: Any) -> None:
    """Chromium's virtual authenticator: a platform passkey that verifies the user."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_a_security_key_is_enrolled_then_signs_in(platform, activated_person, page):
    support = staff_member(platform, activated_person)
    virtual_authenticator(page)
    page.on("dialog", lambda dialog: dialog.accept("Clé de test"))
    sign_in(page, platform.portal_url, support, STAFF_PASSWORD)
    pass_second_factor(page, support)  # the app, compulsory at the first sign-in
    expect_signed_in(page, platform.portal_url, support)
    assert is_enrolled(support)
    sign_out(page)

    # The key is added by Keycloak's required action (the account console's « Clé de
    # sécurité », or asked for them by a platform admin).
    platform.admin.update_user(
        user_id(platform, support), {"requiredActions": ["webauthn-register"]}
    )
    sign_in(page, platform.portal_url, support, STAFF_PASSWORD)
    pass_second_factor(page, support)
    page.wait_for_selector("#registerWebAuthn")
    assert "Enregistrer une clé de sécurité ou une clé d'accès" in error_text(page)
    page.wait_for_load_state("networkidle")  # the button's handler comes with a module script
    page.click("#registerWebAuthn")
    # The key's answer then the form's post: slower than a page under load.
    page.wait_for_selector("#utilisateur-connecte", timeout=45_000)
    expect_signed_in(page, platform.portal_url, support)
    assert credential_types(platform, support) == ["otp", "password", "webauthn"]
    sign_out(page)

    # From now on either factor is accepted: « Essayer une autre méthode », then the key, which
    # the virtual authenticator answers.
    sign_in(page, platform.portal_url, support, STAFF_PASSWORD)
    page.wait_for_selector("#kc-otp-login-form")
    page.click("#try-another-way")
    page.wait_for_selector("#kc-select-credential-form", state="attached")
    assert "Application d'authentification" in error_text(page)
    page.get_by_text("Clé de sécurité ou clé d'accès").first.click()
    page.wait_for_selector("#authenticateWebAuthnButton")
    page.wait_for_load_state("networkidle")  # the button's handler comes with a module script
    page.click("#authenticateWebAuthnButton")
    page.wait_for_selector("#utilisateur-connecte", timeout=45_000)
    expect_signed_in(page, platform.portal_url, support)
