"""« Mon compte » in Chromium: the person's own page (French, accessible), the password changed
on Keycloak's own pages and back, a session closed from another browser, and Keycloak's account
console closed (provisioning)."""

from __future__ import annotations

from typing import Any

from tests.e2e.journeys import (
    NEW_PASSWORD,
    PASSWORD,
    choose_password,
    serious_violations,
    sign_in,
)

SIREN_LOT = "213100019/1"


def open_account(page: Any, portal_url: str) -> None:
    page.get_by_role("link", name="Mon compte").click()
    page.wait_for_url(f"{portal_url}/compte/")


def test_my_account_lists_the_sessions_and_changes_the_password_on_keycloaks_pages(
    platform: Any, activated_person: Any, page: Any
) -> None:
    email = activated_person(PASSWORD, collecte=[SIREN_LOT])
    sign_in(page, platform.portal_url, email, PASSWORD)
    open_account(page, platform.portal_url)
    assert page.locator("#identifiant").inner_text() == email
    rows = page.locator("#sessions tbody tr")
    assert rows.count() == 1 and "(cette session)" in rows.first.inner_text()
    assert serious_violations(page) == []

    page.locator("#changer-mot-de-passe").click()
    choose_password(page, NEW_PASSWORD)
    page.wait_for_url(f"{platform.portal_url}/compte/")
    assert "Modification enregistrée." in page.locator(".messages").inner_text()


def test_a_session_closed_from_my_account_ends_on_the_other_browser(
    platform: Any, activated_person: Any, page: Any, browser: Any
) -> None:
    email = activated_person(PASSWORD, collecte=[SIREN_LOT])
    elsewhere = browser.new_context(locale="fr-FR").new_page()
    sign_in(elsewhere, platform.portal_url, email, PASSWORD)
    sign_in(page, platform.portal_url, email, PASSWORD)
    open_account(page, platform.portal_url)
    other = page.locator("#sessions tbody tr").filter(has_not_text="(cette session)")
    assert other.count() == 1

    other.get_by_role("button", name="Fermer").click()

    assert "Session fermée" in page.locator(".messages").inner_text()
    assert page.locator("#sessions tbody tr").count() == 1
    elsewhere.goto(f"{platform.portal_url}/espace/")
    elsewhere.wait_for_selector("#kc-form-login")  # signed out there: the sign-in page
    elsewhere.context.close()


def test_keycloaks_account_console_is_closed(
    platform: Any, activated_person: Any, page: Any
) -> None:
    """Its page shell is still served, but it can no longer sign anyone in: the client is
    disabled, and the realm's default roles no longer give the account roles."""
    email = activated_person(PASSWORD, collecte=[SIREN_LOT])
    sign_in(page, platform.portal_url, email, PASSWORD)
    realm = f"{platform.keycloak_url}/realms/collecte"
    page.goto(
        f"{realm}/protocol/openid-connect/auth?client_id=account-console&response_type=code"
        f"&scope=openid&redirect_uri={realm}/account/"
    )
    assert "Client désactivé." in page.locator("body").inner_text()  # Keycloak's French error
    assert "code=" not in page.url
