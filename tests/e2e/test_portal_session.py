"""The portal's own sign-in and sign-out, and the accessibility of the pages a member sees."""

from __future__ import annotations

import re
import time

import requests

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


# --- a portal session ends with the Keycloak session -----------------------------------------

SIGN_OUT_DEADLINE = 10.0


def portal_cookies(page) -> dict[str, str]:
    """The browser's cookies for the portal (host-only cookies of the portal's origin)."""
    return {
        cookie["name"]: cookie["value"]
        for cookie in page.context.cookies(page.url)
        if cookie["domain"].lstrip(".") == "localhost"
    }


def replayed(platform, cookies: dict[str, str], path: str = "/espace/") -> requests.Response:
    """What the portal answers to another client (an attacker) presenting these cookies."""
    with requests.Session() as other:
        other.cookies.update(cookies)
        return other.get(f"{platform.portal_url}{path}", allow_redirects=False, timeout=10)


def sent_to_sign_in(response: requests.Response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/connexion")


def wait_until_sent_to_sign_in(platform, cookies: dict[str, str]) -> None:
    deadline = time.monotonic() + SIGN_OUT_DEADLINE
    while not sent_to_sign_in(response := replayed(platform, cookies)):
        assert time.monotonic() < deadline, f"session still open: {response.status_code}"
        time.sleep(0.1)


def signed_in_member(platform, activated_person, page) -> tuple[str, dict[str, str]]:
    email = activated_person(PASSWORD, collecte=["213500010/1"])
    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)
    cookies = portal_cookies(page)
    assert cookies, "no portal cookie in the browser"
    # The copy works while the session lives: the refusals below come from the session's end.
    assert not sent_to_sign_in(replayed(platform, cookies))
    person_id = platform.admin.get_users({"email": email, "exact": True})[0]["id"]
    return person_id, cookies


def test_a_cookie_copied_before_sign_out_opens_nothing_after(platform, activated_person, page):
    _, cookies = signed_in_member(platform, activated_person, page)

    page.click("form.deconnexion button")
    page.wait_for_url(re.compile(re.escape(platform.portal_url) + r"/(\?.*)?$"))

    assert sent_to_sign_in(replayed(platform, cookies))
    # The same in a fresh browser given the copied cookie: the sign-in page, not the space.
    context = page.context.browser.new_context(locale="fr-FR")
    try:
        context.add_cookies(
            [
                {"name": name, "value": value, "url": platform.portal_url}
                for name, value in cookies.items()
            ]
        )
        thief = context.new_page()
        thief.goto(f"{platform.portal_url}/espace/")
        thief.wait_for_selector("#kc-form-login")
    finally:
        context.close()


def test_a_user_disabled_by_support_is_refused_at_the_next_request(
    platform, activated_person, page
):
    person_id, cookies = signed_in_member(platform, activated_person, page)

    person = platform.admin.get_user(person_id)
    person["enabled"] = False
    platform.admin.update_user(person_id, person)

    wait_until_sent_to_sign_in(platform, cookies)
    page.goto(f"{platform.portal_url}/espace/")
    page.wait_for_selector("#kc-form-login")


def test_a_session_ended_in_keycloak_ends_the_portal_session(platform, activated_person, page):
    person_id, cookies = signed_in_member(platform, activated_person, page)

    platform.admin.user_logout(person_id)

    wait_until_sent_to_sign_in(platform, cookies)
    page.goto(f"{platform.portal_url}/espace/")
    page.wait_for_selector("#kc-form-login")
