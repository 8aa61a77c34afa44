"""Support's account actions through the real pages: withdrawing a collection function (the
member's next page is « Page introuvable ») and changing an e-mail (the new address signs in only
once the person has confirmed it from the mail Keycloak sends there)."""

from __future__ import annotations

import time

from collecte_kc.mailsink import links
from tests.e2e.journeys import (
    PASSWORD,
    expect_signed_in,
    sign_in,
    submit_login,
)
from tests.e2e.test_support import SUPPORT_PASSWORD, support_user
from tests.helpers.realm_data import fresh_siren, principal_of
from tests.helpers.second_factor import sign_in_staff


def collection_contact(platform, adherent, activated_person, siren: str) -> str:
    """An activated collection contact of ``siren``/1, in the adherent's group, its principal;
    returns the e-mail."""
    adherent(siren, "Commune de Retraitville", ("1",))
    email = activated_person(PASSWORD, collecte=[f"{siren}/1"])
    admin = platform.admin
    person_id = admin.get_users({"email": email, "exact": True})[0]["id"]
    group = admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
    admin.group_user_add(person_id, group["id"])
    group.setdefault("attributes", {})["principal.1"] = [person_id]
    admin.update_group(group["id"], group)
    return email


def signed_in_support(platform, activated_person, browser):
    support = support_user(platform, activated_person)
    tab = browser.new_context(locale="fr-FR").new_page()
    tab.set_default_timeout(15_000)
    sign_in_staff(tab, platform.portal_url, support, SUPPORT_PASSWORD)
    expect_signed_in(tab, platform.portal_url, support)
    return tab


def test_support_withdraws_the_last_function_and_the_member_is_signed_out(
    platform, adherent, activated_person, browser, page
):
    siren = fresh_siren()
    member = collection_contact(platform, adherent, activated_person, siren)
    sign_in(page, platform.portal_url, member, PASSWORD)
    expect_signed_in(page, platform.portal_url, member)
    assert page.goto(f"{platform.portal_url}/espace/{siren}/1/").status == 200

    desk = signed_in_support(platform, activated_person, browser)
    desk.goto(f"{platform.portal_url}/support/diagnostic?email={member}")
    desk.click(f"a.retirer-collecte[data-perimetre='{siren}/1']")
    confirmation = desk.locator("#retrait-collecte").inner_text()
    assert "reste interlocuteur principal affiché, sans accès" in confirmation
    assert "dernière fonction" in confirmation
    desk.click("#confirmer-retrait")
    desk.wait_for_selector("tr[data-condition='collecte']")
    assert "Fonction d'interlocuteur de collecte retirée" in desk.locator("body").inner_text()
    assert desk.locator("tr[data-condition='collecte'] .etat").inner_text().strip() == "Non"
    desk.context.close()

    page.goto(f"{platform.portal_url}/espace/{siren}/1/")
    # Her last function: Keycloak ended her sessions, and the portal's with them (back-channel
    # logout), so her next request leads to the sign-in page, never to the adherent's page.
    assert page.url.startswith(platform.keycloak_url)
    assert page.locator("#kc-form-login").count() == 1
    member_id = platform.admin.get_users({"email": member, "exact": True})[0]["id"]
    assert principal_of(platform, siren, "1") == member_id


def test_a_new_address_signs_in_only_once_confirmed(
    platform, adherent, activated_person, unique_email, browser, page
):
    siren = fresh_siren()
    old = collection_contact(platform, adherent, activated_person, siren)
    new = unique_email("nouvelle-adresse")
    mails_to_old = platform.mail.count_for(old)

    desk = signed_in_support(platform, activated_person, browser)
    desk.goto(f"{platform.portal_url}/support/diagnostic?email={old}")
    desk.click("#changer-email")
    desk.fill("input[name=email]", new)
    desk.click("main form.formulaire button[type=submit]")
    desk.wait_for_selector("tr[data-condition='email']")
    assert f"Adresse e-mail changée : {new}" in desk.locator("body").inner_text()
    desk.context.close()

    # The old address no longer signs in.
    sign_in(page, platform.portal_url, old, PASSWORD)
    page.wait_for_selector("#kc-form-login")
    assert "invalide" in page.locator("body").inner_text()

    # The new one with the right password: Keycloak asks to confirm the address first.
    submit_login(page, new, PASSWORD)
    page.get_by_role("heading", name="Confirmation de votre adresse e-mail").wait_for()
    assert f"envoyé à l'adresse {new}" in page.locator("body").inner_text()
    # the portal's security notice first (sent when the support changed it), then Keycloak's link
    message = platform.mail.wait_for(new, count=2)
    assert page.goto(f"{platform.portal_url}/espace/").url.startswith(platform.keycloak_url)
    # to the old address, the security notice only: no link
    notice = platform.mail.wait_for(old, count=mails_to_old + 1)
    assert notice["Subject"] == "Sécurité de votre compte : adresse e-mail remplacée"
    assert platform.mail.count_for(old) == mails_to_old + 1
    assert not [url for url in links(notice) if "/login-actions/" in url]

    # The link in the mail to the new address confirms it; then the address signs in.
    [link] = [url for url in links(message) if "/login-actions/" in url]
    page.goto(link)
    proceed = page.locator("#kc-info-message a")
    if proceed.count() and "/login-actions/" in (proceed.first.get_attribute("href") or ""):
        proceed.first.click()
    person_id = platform.admin.get_users({"email": new, "exact": True})[0]["id"]
    deadline = time.monotonic() + 15
    while not platform.admin.get_user(person_id)["emailVerified"]:
        assert time.monotonic() < deadline, "the address was not confirmed"
        page.wait_for_timeout(200)
    page.context.clear_cookies()
    sign_in(page, platform.portal_url, new, PASSWORD)
    expect_signed_in(page, platform.portal_url, new)
