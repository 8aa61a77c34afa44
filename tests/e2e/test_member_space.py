"""A collection contact's space, through the real sign-in and the real Keycloak."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage

from collecte_kc.mailsink import MailSink, text_body
from collecte_kc.sandbox import SUPPORT_EMAIL
from tests.e2e.journeys import (
    PASSWORD,
    expect_signed_in,
    fill_contact,
    make_principal,
    serious_violations,
    sign_in,
)
from tests.helpers.platform import join_adherents
from tests.helpers.realm_data import fresh_siren

SIREN_A = "213500010"
SIREN_B = "253500011"


def notification_about(mail: MailSink, text: str, timeout: float = 30.0) -> EmailMessage:
    """The message to support that names `text`, once it has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in mail.messages:
            if SUPPORT_EMAIL in str(message["To"]).lower() and text in text_body(message):
                return message
        time.sleep(0.1)
    raise TimeoutError(f"aucun e-mail au support ne cite {text}")


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

    # support's mailbox is shared by every test of the session: find the notification of this
    # request, not the newest message there (another test's request may come first)
    notification = notification_about(platform.mail, technician)
    assert SIREN_A in str(notification["Subject"])
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


def test_member_of_lot_1_cannot_open_lot_2_of_the_same_siren(
    platform, adherent, activated_person, create_person, page
):
    """The adherent has lots 1 and 2 and the member is in its group: only their function
    (collecte on lot 1) keeps them out of lot 2, whose pages do not exist for them."""
    siren = adherent(fresh_siren(), lots=("1", "2"))
    email = activated_person(PASSWORD, collecte=[f"{siren}/1"])
    lot_2_contact = create_person(technique=[f"{siren}/2"])

    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)
    for path in (
        f"/espace/{siren}/2/",
        f"/espace/{siren}/2/contacts/nouveau",
        f"/espace/{siren}/2/contacts/{lot_2_contact}/modifier",
    ):
        response = page.goto(platform.portal_url + path)
        assert response is not None and response.status == 404, path
        assert "Page introuvable" in page.locator("main").inner_text(), path


def test_a_collecte_value_without_the_adherents_group_opens_nothing(
    platform, adherent, activated_person, page
):
    """Attack 1, portal side: a `collecte` value written without membership of the adherent's
    group (what a coordinator of another groupement could write) gives no member space. The
    person has another, real perimeter: with that value alone Keycloak refuses the sign-in
    (tests/integration/test_perimetres.py)."""
    siren, own = adherent(fresh_siren()), adherent(fresh_siren())
    email = activated_person(PASSWORD, collecte=[f"{siren}/1", f"{own}/1"], join=False)
    person_id = platform.admin.get_user_id(email)
    join_adherents(platform, str(person_id), [f"{own}/1"])

    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)
    response = page.goto(f"{platform.portal_url}/espace/{siren}/1/")
    assert response.status == 404
    assert "Page introuvable" in page.locator("main").inner_text()
    page.goto(f"{platform.portal_url}/espace/")
    assert page.locator(f"a[data-perimetre='{siren}/1']").count() == 0
    assert siren not in page.locator("main").inner_text()


def test_a_member_links_another_adherents_principal_without_seeing_them(
    platform, adherent, activated_person, create_person, page
):
    """Attack 2 in the browser: the answer is the one for a new address, the row shows the
    e-mail only, « Modifier » is not offered and « Retirer » takes them out of the group."""
    siren_a, siren_b = adherent(fresh_siren()), adherent(fresh_siren())
    email = activated_person(PASSWORD, collecte=[f"{siren_a}/1"])
    principal = create_person(collecte=[f"{siren_b}/1"], first_name="Paula", last_name="Secret")
    make_principal(platform, siren_b, "1", platform.admin.get_user(principal)["email"])
    target = platform.admin.get_user(principal)["email"]

    sign_in(page, platform.portal_url, email, PASSWORD)
    expect_signed_in(page, platform.portal_url, email)
    page.goto(f"{platform.portal_url}/espace/{siren_a}/1/contacts/nouveau")
    fill_contact(page, nom="Usurpe", prenom="Nom", email=target, fixe="02 99 11 11 11", mobile="")
    page.check("input[name=fonctions][value=technique]")
    page.click("main button[type=submit]")
    assert "Contact enregistré." in page.locator("main").inner_text()
    row = page.locator("#techniques tr", has_text=target)
    assert "Identité tenue par ailleurs" in row.inner_text()
    assert "Paula" not in page.content() and "Secret" not in page.content()
    assert row.locator("a.modifier").count() == 0
    assert serious_violations(page) == []

    row.locator("button", has_text="Retirer").click()
    page.wait_for_selector("text=Contact retiré.")
    group = platform.admin.get_group_by_path(f"/GRP-ESSAI/{siren_a}")
    assert principal not in {u["id"] for u in platform.admin.get_group_members(group["id"])}
    assert platform.admin.get_user(principal)["firstName"] == "Paula"
