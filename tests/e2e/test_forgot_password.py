"""« Mot de passe oublié » through the real pages: the mail, the new password, no enumeration."""

from __future__ import annotations

import json
import time
from typing import Any

from collecte_kc.paths import REALM_FILE
from tests.e2e.journeys import (
    NEW_PASSWORD,
    PASSWORD,
    choose_password,
    error_text,
    expect_signed_in,
    mail_link,
    open_login_form,
    sign_in,
    sign_out,
    submit_login,
)


def minimum_seconds() -> float:
    """The minimum the reset step pads every first answer to (realm-export.json)."""
    configs = json.loads(REALM_FILE.read_text("utf-8"))["authenticatorConfig"]
    padding = next(c for c in configs if c["alias"] == "oubli - duree minimale")
    return int(padding["config"]["minimumResponseMillis"]) / 1000


def request_reset(page: Any, portal_url: str, email: str) -> tuple[str, float]:
    """Ask for a reset from the login page; return the answer shown and how long it took."""
    open_login_form(page, portal_url)
    page.click("a[href*='reset-credentials']")
    page.fill("#username", email)
    started = time.monotonic()
    page.click("#kc-form-buttons")
    page.wait_for_selector("#kc-form-login")
    elapsed = time.monotonic() - started
    return page.locator(".pf-v5-c-alert, .alert, [class*='alert']").first.inner_text(), elapsed


def test_reset_mail_sets_a_new_password_and_the_old_one_stops_working(
    platform, activated_person, page
):
    email = activated_person(PASSWORD, collecte=["213100019/1"])

    answer, _ = request_reset(page, platform.portal_url, email)
    assert "e-mail" in answer
    page.goto(mail_link(platform.mail, email))
    choose_password(page, NEW_PASSWORD)
    expect_signed_in(page, platform.portal_url, email)

    sign_out(page)
    sign_in(page, platform.portal_url, email, PASSWORD)
    assert "invalide" in error_text(page).lower()
    submit_login(page, email, NEW_PASSWORD)
    expect_signed_in(page, platform.portal_url, email)


def test_reset_answers_the_same_for_known_and_unknown_emails(
    platform, activated_person, unique_email, page
):
    known = activated_person(PASSWORD, collecte=["213100019/1"])
    unknown = unique_email("inconnu")

    known_answer, known_seconds = request_reset(page, platform.portal_url, known)
    unknown_answer, unknown_seconds = request_reset(page, platform.portal_url, unknown)

    assert known_answer == unknown_answer
    # Neither answer comes before the minimum, so the time taken says nothing about the address.
    assert min(known_seconds, unknown_seconds) >= minimum_seconds()
    platform.mail.wait_for(known)
    assert platform.mail.count_for(unknown) == 0
    print(
        f"\n« mot de passe oublié » : connu {known_seconds:.3f} s, inconnu {unknown_seconds:.3f} s"
    )
