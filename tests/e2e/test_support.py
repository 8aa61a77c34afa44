"""Support's console through the real sign-in: a request from a member, accepted by support,
turns into an invitation the new contact follows; and the sign-in diagnosis, state by state."""

from __future__ import annotations

from tests.e2e.journeys import (
    PASSWORD,
    accept_terms,
    choose_password,
    complete_invitation,
    expect_signed_in,
    fill_contact,
    mail_link,
    make_principal,
    open_login_form,
    sign_in,
    sign_out,
    start_invitation,
)
from tests.e2e.lockout import FAILURE_FACTOR, type_wrong_password
from tests.helpers.realm_data import fresh_siren
from tests.helpers.second_factor import sign_in_staff

SUPPORT_PASSWORD = "Support-Essai-2026!"


def support_user(platform, activated_person) -> str:
    email = activated_person(SUPPORT_PASSWORD, first_name="Sam", last_name="Support")
    person = platform.admin.get_users({"email": email, "exact": True})[0]
    platform.admin.assign_realm_roles(person["id"], [platform.admin.get_realm_role("support")])
    return email


def condition(page, key: str) -> str:
    return page.locator(f"tr[data-condition='{key}'] .etat").inner_text().strip()


def diagnose(page, platform, email: str) -> None:
    page.goto(f"{platform.portal_url}/support/diagnostic?email={email}")
    page.wait_for_selector("tr[data-condition='connu']")


def test_request_accepted_by_support_becomes_a_signed_in_collection_contact(
    platform, adherent, activated_person, unique_email, page
):
    # its own adherent: the principal and the queue are this test's alone
    siren = adherent(fresh_siren(), "Commune de Supportville", ("1",))
    member = activated_person(PASSWORD, collecte=[f"{siren}/1"])
    make_principal(platform, siren, "1", member)
    support = support_user(platform, activated_person)
    newcomer = unique_email("nouvelle")

    # The member asks for an additional collection contact.
    sign_in(page, platform.portal_url, member, PASSWORD)
    expect_signed_in(page, platform.portal_url, member)
    page.goto(f"{platform.portal_url}/espace/{siren}/1/")
    page.click("#demander-collecte")
    fill_contact(page, nom="Nouvelle", prenom="Léa", email=newcomer, fixe="", mobile="0612345678")
    page.click("main button[type=submit]")
    assert "En attente" in page.locator("#demandes tr", has_text=newcomer).inner_text()
    sign_out(page)

    # Support accepts it from the queue.
    sign_in_staff(page, platform.portal_url, support, SUPPORT_PASSWORD)
    page.goto(f"{platform.portal_url}/support/?siren={siren}")
    row = page.locator("tr[data-demande]", has_text=newcomer)
    row.locator("form.accepter button").click()
    assert "Invitation envoyée" in page.locator("body").inner_text()
    sign_out(page)

    # The newcomer follows the invitation, chooses a password, accepts the CGU and signs in.
    complete_invitation(page, platform, mail_link(platform.mail, newcomer), newcomer)

    # The principal is still the first member.
    page.goto(f"{platform.portal_url}/espace/{siren}/1/")
    assert member in page.locator("#principal").inner_text()
    assert newcomer not in page.locator("#principal").inner_text()
    assert newcomer in page.locator("#collecte").inner_text()


def test_diagnosis_follows_a_person_from_invited_to_healthy_and_locked(
    platform, adherent, activated_person, create_person, unique_email, page
):
    # its own adherent: the principal and the queue are this test's alone
    siren = adherent(fresh_siren(), "Commune de Supportville", ("1",))
    support = support_user(platform, activated_person)
    sign_in_staff(page, platform.portal_url, support, SUPPORT_PASSWORD)
    expect_signed_in(page, platform.portal_url, support)

    diagnose(page, platform, unique_email("inconnu"))
    assert condition(page, "connu") == "Non"

    technical = platform.admin.get_user(create_person(technique=[f"{siren}/1"]))["email"]
    diagnose(page, platform, technical)
    assert (condition(page, "connu"), condition(page, "collecte")) == ("Oui", "Non")

    # Support adds a collection contact directly: invited, not activated yet.
    newcomer = unique_email("diagnostic")
    page.goto(f"{platform.portal_url}/support/interlocuteurs/nouveau")
    page.fill("input[name=siren]", siren)
    page.fill("input[name=lot]", "1")
    fill_contact(page, nom="Diag", prenom="Nora", email=newcomer, fixe="0299000001", mobile="")
    page.click("main button[type=submit]")
    page.wait_for_selector("tr[data-condition='invitation']")
    assert (condition(page, "collecte"), condition(page, "active")) == ("Oui", "Non")
    assert page.locator("form.reinviter").count() == 1

    # Activated but CGU declined: still cannot sign in.
    link = mail_link(platform.mail, newcomer)
    context = page.context.browser.new_context(locale="fr-FR")
    visitor = context.new_page()
    start_invitation(visitor, link)
    choose_password(visitor, PASSWORD)
    visitor.click("#kc-decline")
    diagnose(page, platform, newcomer)
    assert (condition(page, "active"), condition(page, "cgu")) == ("Oui", "Non")
    assert "ne peut pas se connecter" in page.locator("#verdict").inner_text()

    # Accepts the CGU at sign-in: healthy.
    sign_in(visitor, platform.portal_url, newcomer, PASSWORD)
    accept_terms(visitor)
    expect_signed_in(visitor, platform.portal_url, newcomer)
    diagnose(page, platform, newcomer)
    assert condition(page, "cgu") == "Oui" and condition(page, "connexion") != "Jamais"
    assert "peut se connecter" in page.locator("#verdict").inner_text()

    # Locked by repeated wrong passwords, then unlocked by support.
    visitor.context.clear_cookies()
    open_login_form(visitor, platform.portal_url)
    newcomer_id = platform.admin.get_user_id(newcomer)
    for failures in range(FAILURE_FACTOR):
        type_wrong_password(visitor, platform.admin, newcomer_id, newcomer, failures)
    diagnose(page, platform, newcomer)
    assert condition(page, "verrouille") == "Oui"
    page.click("form.deverrouiller button")
    diagnose(page, platform, newcomer)
    assert condition(page, "verrouille") == "Non"
    context.close()
