"""The portal's own sign-in and sign-out, and the accessibility of the pages a member sees."""

from __future__ import annotations

import re

from tests.e2e.journeys import (
    PASSWORD,
    expect_signed_in,
    open_login_form,
    serious_violations,
    sign_in,
)


def test_sign_out_ends_the_keycloak_session_too(platform, activated_person, page):
    email = activated_person(PASSWORD, collecte=["213500010/1"])
    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)
    person = platform.admin.get_users({"email": email, "exact": True})[0]
    assert len(platform.admin.get_sessions(person["id"])) == 1

    page.click("form.deconnexion button")
    page.wait_for_url(re.compile(re.escape(platform.portal_url) + r"/(\?.*)?$"))
    assert "Déconnexion effectuée" in page.locator("main").inner_text()
    assert page.locator("#utilisateur-connecte").count() == 0
    assert platform.admin.get_sessions(person["id"]) == []
    # No single sign-on left behind: signing in again asks for the password.
    open_login_form(page, platform.portal_url)


def test_login_page_and_portal_home_have_no_serious_accessibility_issue(
    platform, activated_person, page
):
    open_login_form(page, platform.portal_url)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert serious_violations(page) == []

    page.goto(platform.portal_url)
    assert serious_violations(page) == []

    email = activated_person(PASSWORD, collecte=["213500010/1"])
    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)
    assert serious_violations(page) == []
