"""Security notices mailed by Keycloak's own « email » event listener, in French with « si ce
n'est pas vous » (realm eventsListeners, collecte_kc.server.SECURITY_NOTICES, the email theme's
event-*.ftl): a password set or changed, an account locked after wrong passwords."""

from __future__ import annotations

import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from collecte_kc.sandbox import SUPPORT_EMAIL
from tests.e2e.journeys import (
    NEW_PASSWORD,
    PASSWORD,
    ask_for_a_reset,
    choose_password,
    expect_signed_in,
    mail_link,
    open_login_form,
    submit_login,
)
from tests.e2e.lockout import FAILURE_FACTOR


def notice(mail: Any, to: str, subject: str, timeout: float = 30) -> str:
    """The plain text of the first mail to ``to`` with this subject, once it has come."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in mail.messages:
            if to.lower() in str(message["To"]).lower() and message["Subject"] == subject:
                return plain(message)
        time.sleep(0.1)
    raise TimeoutError(f"aucun avis « {subject} » pour {to}")


def plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_a_password_changed_through_the_reset_is_notified(
    platform: Any, activated_person: Callable[..., str], page: Any
) -> None:
    email = activated_person(PASSWORD, collecte=["213100019/1"])
    ask_for_a_reset(page, platform.portal_url, email)
    page.goto(mail_link(platform.mail, email))
    choose_password(page, NEW_PASSWORD)
    expect_signed_in(page, platform.portal_url, email)

    text = notice(
        platform.mail, email, "Sécurité de votre compte : mot de passe ou second facteur modifié"
    )
    assert "Le mot de passe de votre compte" in text and "défini ou modifié le" in text
    assert "Si ce n’est pas vous" in text.replace("'", "’")
    assert "Mot de passe oublié ?" in text and SUPPORT_EMAIL in text


def test_an_account_locked_by_wrong_passwords_is_notified(
    platform: Any, activated_person: Callable[..., str], page: Any
) -> None:
    email = activated_person(PASSWORD, collecte=["213100019/1"])
    open_login_form(page, platform.portal_url)
    for _ in range(FAILURE_FACTOR):
        submit_login(page, email, "Pas-le-bon-mot-de-passe-1")
        page.wait_for_selector("#kc-form-login")

    text = notice(
        platform.mail, email, "Sécurité de votre compte : compte verrouillé temporairement"
    )
    assert "verrouillé temporairement" in text and "se déverrouille seul" in text
    assert SUPPORT_EMAIL in text
    # a wrong password alone mails nothing (LOGIN_ERROR is not a notice: no flooding)
    assert platform.mail.count_for(email) == 1
