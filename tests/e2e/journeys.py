"""Steps of the sign-in journeys, written once and shared by the end-to-end tests."""

from __future__ import annotations

import re
from typing import Any

from axe_playwright_python.sync_playwright import Axe

from collecte_kc.mailsink import MailSink, links
from portal.core.domain import Change

PASSWORD = "Collecte-Essai-2026!"
NEW_PASSWORD = "Nouveau-Secret-2026?"
PORTAL_CLIENT_ID = "collecte-portail"


def mail_link(mail: MailSink, email: str, count: int = 1) -> str:
    message = mail.wait_for(email, count=count)
    action_links = [link for link in links(message) if "/login-actions/" in link]
    assert action_links, f"aucun lien d'action dans : {message['Subject']}"
    return str(action_links[0])


def open_login_form(page: Any, portal_url: str) -> None:
    page.goto(f"{portal_url}/connexion")
    page.wait_for_selector("#kc-form-login")


def ask_for_a_reset(page: Any, portal_url: str, email: str) -> None:
    """« Mot de passe oublié ? » from the login page, up to the login form shown again."""
    open_login_form(page, portal_url)
    page.click("a[href*='reset-credentials']")
    page.fill("#username", email)
    page.click("#kc-form-buttons")
    page.wait_for_selector("#kc-form-login")


def submit_login(page: Any, email: str, password: str) -> None:
    page.fill("#username", email)
    page.fill("#password", password)
    page.click("#kc-login")


def sign_in(page: Any, portal_url: str, email: str, password: str) -> None:
    open_login_form(page, portal_url)
    submit_login(page, email, password)


def sign_out(page: Any) -> None:
    """The sign-out button of the portal's header (it also ends the Keycloak session)."""
    page.click("form.deconnexion button")
    page.wait_for_load_state()


def expect_signed_in(page: Any, portal_url: str, email: str) -> None:
    page.wait_for_url(re.compile(re.escape(portal_url) + r"/?(\?.*)?$"))
    assert email in page.locator("#utilisateur-connecte").inner_text()


def choose_password(page: Any, password: str) -> None:
    page.wait_for_selector("#password-new")
    page.fill("#password-new", password)
    page.fill("#password-confirm", password)
    page.click("#kc-submit")


def accept_terms(page: Any) -> None:
    page.wait_for_selector("#kc-accept")
    page.click("#kc-accept")


def start_invitation(page: Any, link: str) -> None:
    """Open the invitation link, then confirm: a mail scanner's GET alone consumes nothing."""
    page.goto(link)
    proceed = page.locator("#kc-info-message a")
    if proceed.count() and "/login-actions/" in (proceed.first.get_attribute("href") or ""):
        proceed.first.click()


def invite(gateway: Any, platform: Any, person_id: str) -> None:
    """Send an invitation the way support does, through the portal's gateway."""
    gateway.invite(
        person_id,
        f"{platform.portal_url}/connexion",
        Change.now("support@collecte.test", "invitation"),
    )


def complete_invitation(page: Any, platform: Any, link: str, email: str) -> None:
    """Password, CGU, the « activé » page, then sign-in lands on the portal."""
    start_invitation(page, link)
    choose_password(page, PASSWORD)
    accept_terms(page)
    page.wait_for_selector("#kc-info-message")
    assert "activé" in error_text(page)
    page.locator("#kc-info-message a").click()
    page.wait_for_selector("#kc-form-login")
    submit_login(page, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)


def error_text(page: Any) -> str:
    return str(page.locator("body").inner_text())


def make_principal(platform: Any, siren: str, lot: str, email: str) -> None:
    admin = platform.admin
    group = admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
    person_id = admin.get_users({"email": email, "exact": True})[0]["id"]
    group.setdefault("attributes", {})[f"principal.{lot}"] = [person_id]
    admin.update_group(group["id"], group)


def fill_contact(
    page: Any, *, nom: str, prenom: str, email: str | None, fixe: str, mobile: str
) -> None:
    page.fill("input[name=nom]", nom)
    page.fill("input[name=prenom]", prenom)
    if email is not None:
        page.fill("input[name=email]", email)
    page.fill("input[name=telephone_fixe]", fixe)
    page.fill("input[name=telephone_mobile]", mobile)


SERIOUS = {"serious", "critical"}


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical accessibility violations on the current page."""
    results = Axe().run(page)
    return [
        f"{violation['id']}: {violation['help']}"
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]
