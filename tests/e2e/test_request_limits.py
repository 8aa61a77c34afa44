"""Abuse limits through Chromium, the real portal and the real Keycloak: the fourth request for
the same address within 24 hours is refused in French beside the e-mail field, and nothing is
recorded in Keycloak."""

from __future__ import annotations

import json

from tests.e2e.journeys import PASSWORD, expect_signed_in, fill_contact, sign_in
from tests.helpers.realm_data import fresh_siren


def test_a_fourth_request_for_one_address_is_refused_in_french(
    platform, adherent, activated_person, unique_email, page
):
    siren = adherent(fresh_siren())
    member = activated_person(PASSWORD, collecte=[f"{siren}/1"])
    target = unique_email("cible")
    sign_in(page, platform.portal_url, member, PASSWORD)
    expect_signed_in(page, platform.portal_url, member)

    def request() -> None:
        page.goto(f"{platform.portal_url}/espace/demandes/nouvelle?perimetre={siren}/1")
        fill_contact(
            page, nom="Cible", prenom="Camille", email=target, fixe="02 99 00 00 01", mobile=""
        )
        page.click("main button[type=submit]")
        page.wait_for_load_state()

    for _ in range(3):  # the default: 3 per address per 24 hours
        request()
        assert "Demande transmise au support" in page.locator("main").inner_text()
    person = platform.admin.get_users({"email": target, "exact": True})[0]
    before = person["attributes"]["demandesCollecte"]
    assert len(before) == 3

    request()

    error = page.locator("#email-erreur").inner_text()
    assert error.startswith(
        "Trop de demandes pour cette adresse (3 par 24 heures au plus) : rien n’a été "
        "enregistré. Réessayez à partir du "
    )
    assert page.locator("input[name=email]").get_attribute("aria-invalid") == "true"
    after = platform.admin.get_user(person["id"])["attributes"]["demandesCollecte"]
    assert [json.loads(r)["id"] for r in after] == [json.loads(r)["id"] for r in before]
