"""« Je ne parviens pas à me connecter » through the real pages: from Keycloak's login page to
the portal's help page, the diagnosis mailed to a known address only, and the same answer in the
same time whatever the address (the reset test's method)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from collecte_kc.sandbox import SUPPORT_EMAIL
from tests.e2e.journeys import open_login_form

#: Requests per kind of address (known, unknown) in the timing test.
TRIES = 4
#: Known over unknown, medians (as for « Mot de passe oublié »): the answer only enqueues the
#: diagnosis, whatever the address.
RATIO_BOUNDS = (0.75, 1.33)
SIREN_LOT = "213100019/1"


def ask(page: Any, portal_url: str, email: str) -> tuple[str, float]:
    """Ask for the diagnosis on the help page; the answer shown and how long it took."""
    page.goto(f"{portal_url}/aide/connexion")
    page.fill("#email", email)
    started = time.monotonic()
    page.get_by_role("button", name="Recevoir le diagnostic par e-mail").click()
    page.wait_for_selector(".messages")
    elapsed = time.monotonic() - started
    return page.locator(".messages").inner_text(), elapsed


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_from_the_login_page_a_technical_contact_gets_the_diagnosis_by_mail(
    platform: Any, create_person: Callable[..., str], unique_email: Callable[[str], str], page: Any
) -> None:
    email = unique_email("technique")
    create_person(technique=[SIREN_LOT], email=email)
    open_login_form(page, platform.portal_url)
    # The login page's help box: the support's address (set once for Keycloak and the portal)
    # and the way to the self-help form.
    support = page.locator("#collecte-support a")
    assert support.inner_text() == SUPPORT_EMAIL
    assert support.get_attribute("href") == f"mailto:{SUPPORT_EMAIL}"
    page.locator("#collecte-diagnostic a").click()
    page.wait_for_url(f"{platform.portal_url}/aide/connexion#je-ne-parviens-pas")

    answer, _ = ask(page, platform.portal_url, email)

    assert "Si cette adresse est connue de la plateforme" in answer
    mail = text_of(platform.mail.wait_for(email))
    assert f"interlocuteur technique pour {SIREN_LOT}" in mail
    assert "ne donnent pas accès à la plateforme" in mail and SUPPORT_EMAIL in mail


def test_a_collection_contact_never_invited_is_told_to_ask_for_an_invitation(
    platform: Any, create_person: Callable[..., str], unique_email: Callable[[str], str], page: Any
) -> None:
    email = unique_email("collecte")
    create_person(collecte=[SIREN_LOT], email=email)
    ask(page, platform.portal_url, email)
    mail = text_of(platform.mail.wait_for(email))
    assert "aucune invitation ne vous a encore été envoyée" in mail


def test_the_answer_is_the_same_in_the_same_time_for_known_and_unknown_addresses(
    platform: Any, create_person: Callable[..., str], unique_email: Callable[[str], str], page: Any
) -> None:
    knowns = [unique_email("connu") for _ in range(TRIES)]
    for email in knowns:
        create_person(collecte=[SIREN_LOT], email=email)
    unknowns = [unique_email("inconnu") for _ in range(TRIES)]
    timings: dict[str, list[float]] = {"connu": [], "inconnu": []}
    answers = set()
    for known, unknown in zip(knowns, unknowns, strict=True):
        # Interleaved, so a slower moment of the machine weighs on both kinds alike.
        for kind, email in (("inconnu", unknown), ("connu", known)):
            answer, seconds = ask(page, platform.portal_url, email)
            answers.add(answer)
            timings[kind].append(seconds)

    assert len(answers) == 1, answers
    ratio = statistics.median(timings["connu"]) / statistics.median(timings["inconnu"])
    print(f"\n« je ne parviens pas à me connecter » : {timings}, rapport {ratio:.3f}")
    assert RATIO_BOUNDS[0] <= ratio <= RATIO_BOUNDS[1], timings
    for known in knowns:
        platform.mail.wait_for(known)
    # Each unknown address was asked for before a known one whose mail has arrived.
    assert all(platform.mail.count_for(unknown) == 0 for unknown in unknowns)
