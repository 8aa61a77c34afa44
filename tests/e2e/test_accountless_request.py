"""« Demande sans compte » through the real pages: someone who cannot sign in at all asks from the
help page, support is told by mail, sees « Demande sans compte » in its queue and accepts, the
person follows the invitation to a signed-in space — and the same answer, in the same time,
whatever the SIREN or address (the reset test's method), with nothing queued for a SIREN that
is no adherent. Accessibility checked with axe."""

from __future__ import annotations

import statistics
import time
from typing import Any

from collecte_kc.sandbox import SUPPORT_EMAIL
from tests.e2e.journeys import (
    complete_invitation,
    fill_contact,
    mail_link,
    serious_violations,
    sign_out,
)
from tests.e2e.test_support import SUPPORT_PASSWORD, support_user
from tests.helpers.realm_data import fresh_siren
from tests.helpers.relying_party import poll
from tests.helpers.second_factor import sign_in_staff

#: Requests per kind (an adherent's lot, a SIREN no adherent has) in the timing test.
TRIES = 3
RATIO_BOUNDS = (0.75, 1.33)
BUTTON = "Envoyer la demande au support"


def ask(page: Any, portal_url: str, email: str, siren: str, lot: str = "1") -> tuple[str, float]:
    """Fill the form and send it; the answer shown and how long it took."""
    page.goto(f"{portal_url}/aide/demande-sans-compte")
    fill_contact(page, nom="Sans", prenom="Compte", email=email, fixe="", mobile="0612345678")
    page.fill("input[name=siren]", siren)
    page.fill("input[name=lot]", lot)
    started = time.monotonic()
    page.get_by_role("button", name=BUTTON).click()
    page.wait_for_selector(".messages")
    elapsed = time.monotonic() - started
    return page.locator(".messages").inner_text(), elapsed


def test_a_person_without_account_asks_support_accepts_and_they_sign_in(
    platform, adherent, activated_person, unique_email, page
):
    siren = adherent(fresh_siren(), "Commune de Sanscompte", ("1",))
    newcomer = unique_email("sans-compte")

    page.goto(f"{platform.portal_url}/aide/connexion")
    page.get_by_role("link", name="Demander un accès sans compte").click()
    page.wait_for_url(f"{platform.portal_url}/aide/demande-sans-compte")
    assert serious_violations(page) == []
    page.get_by_role("button", name=BUTTON).click()  # empty: French messages, nothing sent
    assert "Indiquez" in page.locator("#nom-erreur").inner_text()
    before = platform.mail.count_for(SUPPORT_EMAIL)
    answer, _ = ask(page, platform.portal_url, newcomer, siren)
    assert "le support la vérifie auprès du coordonnateur" in answer

    told = platform.mail.wait_for(SUPPORT_EMAIL, count=before + 1)
    assert newcomer in told.get_body(("plain",)).get_content()

    support = support_user(platform, activated_person)
    sign_in_staff(page, platform.portal_url, support, SUPPORT_PASSWORD)
    page.goto(f"{platform.portal_url}/support/?siren={siren}")
    row = page.locator("tr[data-demande]", has_text=newcomer)
    assert "Demande sans compte" in row.locator(".sans-compte").inner_text()
    assert serious_violations(page) == []
    row.locator("form.accepter button").click()
    assert "Invitation envoyée" in page.locator("body").inner_text()
    sign_out(page)

    complete_invitation(page, platform, mail_link(platform.mail, newcomer), newcomer)
    page.goto(f"{platform.portal_url}/espace/{siren}/1/")
    assert newcomer in page.locator("#principal").inner_text()  # no one was left: first one


def test_the_answer_is_the_same_in_the_same_time_whatever_the_siren(
    platform, adherent, unique_email, page
):
    siren = adherent(fresh_siren(), "Commune de Mesuréville", ("1",))
    nowhere = fresh_siren()  # no adherent has it
    timings: dict[str, list[float]] = {"adherent": [], "inconnu": []}
    answers, asked = set(), {"adherent": [], "inconnu": []}
    for _ in range(TRIES):
        # Interleaved, so a slower moment of the machine weighs on both kinds alike.
        for kind, where in (("inconnu", nowhere), ("adherent", siren)):
            email = unique_email(kind)
            answer, seconds = ask(page, platform.portal_url, email, where)
            answers.add(answer)
            timings[kind].append(seconds)
            asked[kind].append(email)

    assert len(answers) == 1, answers
    ratio = statistics.median(timings["adherent"]) / statistics.median(timings["inconnu"])
    print(f"\n« demande sans compte » : {timings}, rapport {ratio:.3f}")
    assert RATIO_BOUNDS[0] <= ratio <= RATIO_BOUNDS[1], timings

    def queued(email: str) -> list[Any] | None:
        return platform.admin.get_users({"email": email, "exact": True}) or None

    for email in asked["adherent"]:
        poll(lambda email=email: queued(email), f"{email} dans la file")
    # Each request for the unknown SIREN was sent before one now queued: none was recorded.
    for email in asked["inconnu"]:
        assert platform.admin.get_users({"email": email, "exact": True}) == []
