"""A collection contact's space, through the real sign-in and the real Keycloak."""

from __future__ import annotations

import re

from collecte_kc.mailsink import text_body
from collecte_kc.sandbox import SUPPORT_EMAIL
from tests.e2e.journeys import (
    PASSWORD,
    expect_signed_in,
    fill_contact,
    make_principal,
    serious_violations,
    sign_in,
)

SIREN_A = "213500010"
SIREN_B = "253500011"


def test_member_manages_contacts_and_requests_a_collection_contact(
    platform, adherent, activated_person, unique_email, page
):
    adherent(SIREN_A, "Commune de Démoville", ("1", "2"))
    email = activated_person(PASSWORD, collecte=[f"{SIREN_A}/1"], first_name="Marie")
    make_principal(platform, SIREN_A, "1", email)

    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)
    page.click("#lien-espace")
    assert email in page.locator("#mon-identite").inner_text()
    assert serious_violations(page) == []
    page.click(f"a[data-perimetre='{SIREN_A}/1']")
    assert serious_violations(page) == []
    assert email in page.locator("#principal").inner_text()
    assert "pas possible de modifier" in page.locator("#principal").inner_text()

    # Add a technical contact.
    technician = unique_email("technicien")
    page.click("#ajouter-contact")
    assert serious_violations(page) == []
    fill_contact(
        page, nom="Technicien", prenom="Jean", email=technician, fixe="02 99 00 00 01", mobile=""
    )
    page.check("input[name=fonctions][value=technique]")
    page.click("main button[type=submit]")
    row = page.locator("#techniques tr", has_text=technician)
    assert "02 99 00 00 01" in row.inner_text()

    # Edit it: a mobile number, and billing too.
    row.locator("a.modifier").click()
    page.fill("input[name=telephone_mobile]", "06 12 34 56 78")
    page.check("input[name=fonctions][value=facturation]")
    page.click("main button[type=submit]")
    assert "06 12 34 56 78" in page.locator("#techniques tr", has_text=technician).inner_text()
    assert page.locator("#facturation tr", has_text=technician).count() == 1

    # Propose them as an additional collection contact: the form comes pre-filled.
    page.locator("#techniques tr", has_text=technician).locator("a.proposer").click()
    assert page.input_value("input[name=email]") == technician
    page.click("main button[type=submit]")
    pending = page.locator("#demandes tr", has_text=technician)
    assert "En attente" in pending.inner_text()

    notification = platform.mail.wait_for(SUPPORT_EMAIL, count=1)
    assert technician in text_body(notification) and SIREN_A in str(notification["Subject"])
    person = platform.admin.get_users({"email": technician, "exact": True})[0]
    assert person["attributes"]["technique"] == [f"{SIREN_A}/1"]
    assert "collecte" not in person["attributes"]  # nothing is granted before support decides
    assert email in person["attributes"]["derniereModification"][0]


def test_member_cannot_open_another_adherents_pages(
    platform, adherent, activated_person, create_person, page
):
    adherent(SIREN_A)
    adherent(SIREN_B)
    email = activated_person(PASSWORD, collecte=[f"{SIREN_A}/1"])
    other = create_person(technique=[f"{SIREN_B}/1"])

    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)
    for path in (
        f"/espace/{SIREN_B}/1/",
        f"/espace/{SIREN_B}/1/contacts/nouveau",
        f"/espace/{SIREN_A}/1/contacts/{other}/modifier",
        f"/espace/demandes/nouvelle?perimetre={SIREN_B}/1&personne={other}",
    ):
        response = page.goto(platform.portal_url + path)
        assert response.status in (403, 404), path
        assert re.search(r"introuvable|refusé", page.locator("main").inner_text(), re.I)
