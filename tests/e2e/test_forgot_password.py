"""« Mot de passe oublié » through the real pages: the mail, the new password, no enumeration."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest

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

#: Reset requests per kind of address (known, unknown) in the timing test.
TRIES = 5
#: Known over unknown, medians: the browser's own noise stays inside, a leak of the sending time
#: (half the minimum with `slow_mail`) does not.
RATIO_BOUNDS = (0.8, 1.25)
#: No answer takes this long: the minimum, the slow mail server and the page, with room.
MAX_ANSWER_SECONDS = 10.0


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


@pytest.fixture
def slow_mail(platform) -> Iterator[float]:
    """For this test only, the mail server takes half the minimum to accept each message: a
    slow server, still under the minimum as the padding requires. A fast local sink would hide
    a sending time that leaks into the answer."""
    delay = minimum_seconds() / 2
    platform.mail.accept_delay_seconds = delay
    try:
        yield delay
    finally:
        platform.mail.accept_delay_seconds = 0.0


def test_reset_answers_the_same_for_known_and_unknown_emails(
    platform, activated_person, unique_email, page, slow_mail
):
    """Same text, and the same time: medians over several tries, known over unknown, within
    RATIO_BOUNDS. Starting the padding after the mail is sent makes the known address slower
    by the sending time (half the minimum here), far outside the bounds."""
    known = activated_person(PASSWORD, collecte=["213100019/1"])
    unknowns = [unique_email("inconnu") for _ in range(TRIES)]
    timings: dict[str, list[float]] = {"connu": [], "inconnu": []}
    answers = set()
    for unknown in unknowns:
        # Interleaved, so a slower moment of the machine weighs on both kinds alike.
        for kind, email in (("connu", known), ("inconnu", unknown)):
            answer, seconds = request_reset(page, platform.portal_url, email)
            answers.add(answer)
            timings[kind].append(seconds)

    assert len(answers) == 1, answers
    every = timings["connu"] + timings["inconnu"]
    # Never before the minimum; never hanging either.
    assert minimum_seconds() <= min(every) and max(every) < MAX_ANSWER_SECONDS, timings
    ratio = statistics.median(timings["connu"]) / statistics.median(timings["inconnu"])
    print(f"\n« mot de passe oublié » : {timings}, rapport des médianes {ratio:.3f}")
    assert RATIO_BOUNDS[0] <= ratio <= RATIO_BOUNDS[1], timings
    platform.mail.wait_for(known, count=TRIES)
    assert all(platform.mail.count_for(unknown) == 0 for unknown in unknowns)
