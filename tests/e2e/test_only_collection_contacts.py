"""Only collection contacts (and platform staff) can obtain a session, by any path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.journeys import (
    PASSWORD,
    ask_for_a_reset,
    error_text,
    mail_link,
    open_login_form,
    sign_in,
)
from tests.e2e.lockout import AUTHENTICATE, FAILURE_FACTOR, type_wrong_password
from tests.helpers.realm_data import fresh_siren

REFUSAL = "n'est pas identifiée comme celle d'un interlocuteur de collecte"
# Who is refused: a technical contact (say, a former collection contact whose function was
# removed), and a `collecte` value without membership of the adherent's group (what a
# coordinator of another groupement could write): no perimeter under the authority rule.
REFUSED = ["contact technique", "collecte sans le groupe de l'adhérent"]


def _refused_functions(kind: str, adherent: Any) -> dict[str, Any]:
    if kind == "contact technique":
        return {"technique": ["213100019/1"]}
    return {"collecte": [f"{adherent(fresh_siren())}/1"], "join": False}


@pytest.mark.parametrize("kind", REFUSED)
def test_technical_contact_is_refused_at_the_login_form(
    platform, activated_person, adherent, page, kind
):
    email = activated_person(PASSWORD, **_refused_functions(kind, adherent))

    sign_in(page, platform.portal_url, email, PASSWORD)
    page.wait_for_selector("text=" + REFUSAL)
    assert "coordonnateur de votre groupement" in error_text(page)
    assert not page.url.startswith(platform.portal_url)
    person = platform.admin.get_users({"email": email, "exact": True})[0]
    assert platform.admin.get_sessions(person["id"]) == []


@pytest.mark.parametrize("kind", REFUSED)
def test_technical_contact_gets_no_session_through_forgot_password(
    platform, create_person, unique_email, adherent, page, kind
):
    email = unique_email("technique")
    person_id = create_person(email=email, **_refused_functions(kind, adherent))

    ask_for_a_reset(page, platform.portal_url, email)

    page.goto(mail_link(platform.mail, email))
    page.wait_for_selector("text=" + REFUSAL)
    assert page.locator("#password-new").count() == 0
    assert platform.admin.get_sessions(person_id) == []
    assert platform.admin.get_credentials(person_id) == []

    # The portal still sees nobody signed in.
    page.goto(platform.portal_url)
    assert page.locator("#utilisateur-connecte").count() == 0


def test_repeated_wrong_passwords_lock_the_account_for_a_while(platform, activated_person, page):
    """Not locked after FAILURE_FACTOR − 1 spaced failures, locked after exactly FAILURE_FACTOR:
    the failures are spaced beyond the quick-login window, so only failureFactor decides."""
    email = activated_person(PASSWORD, collecte=["213100019/1"])
    person = platform.admin.get_users({"email": email, "exact": True})[0]

    open_login_form(page, platform.portal_url)
    for failures in range(FAILURE_FACTOR - 1):
        status = type_wrong_password(page, platform.admin, person["id"], email, failures)
        assert status["disabled"] is False, status
    status = type_wrong_password(page, platform.admin, person["id"], email, FAILURE_FACTOR - 1)
    assert status["disabled"] is True, status

    page.fill("#username", email)
    page.fill("#password", PASSWORD)
    # The login form is already on the page: wait for the answer to this POST, not for it.
    with page.expect_response(lambda r: r.request.method == "POST" and AUTHENTICATE in r.url):
        page.click("#kc-login")
    page.wait_for_load_state()
    page.wait_for_selector("#kc-form-login")
    assert page.locator("#utilisateur-connecte").count() == 0
    assert not page.url.startswith(platform.portal_url)
