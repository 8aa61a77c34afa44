"""A real coordinator (set up by `collecte_kc.coordinators`, activated through their invitation)
follows their groupement's activations in the portal, exports them and re-sends invitations."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from collecte_kc.coordinators import Coordinator, add_groupement
from tests.e2e.journeys import (
    PASSWORD,
    accept_terms,
    choose_password,
    complete_invitation,
    expect_signed_in,
    invite,
    mail_link,
    serious_violations,
    start_invitation,
)
from tests.helpers.second_factor import sign_in_staff

CODE = "GRP-SUIVI-E2E"
SIREN = "213591035"


def _email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@exemple-suivi.fr"


def _contact(platform, email: str) -> str:
    return str(
        platform.admin.create_user(
            {
                "email": email,
                "firstName": "Camille",
                "lastName": "Suivi",
                "enabled": True,
                "attributes": {"collecte": [f"{SIREN}/1"]},
                "groups": [f"/{CODE}/{SIREN}"],
            }
        )
    )


def counter(page, name: str) -> str:
    return page.locator(f"section[data-lot='1'] dd[data-compteur='{name}']").inner_text().strip()


def test_a_coordinator_follows_exports_and_relaunches(platform, gateway, page, tmp_path: Path):
    admin = platform.admin
    coordinator = _email("coordonnatrice")
    outcome = add_groupement(
        admin,
        CODE,
        "Groupement suivi de bout en bout",
        Coordinator(coordinator, "Claire", "Coordination"),
        public_url=platform.keycloak_url,
    )
    admin.create_group(
        {"name": SIREN, "attributes": {"raisonSociale": ["Commune de Suiviville"], "lots": ["1"]}},
        parent=outcome.groupement_id,
        skip_exists=True,
    )
    # Three collection contacts: one activated through the real invitation pages, one invited,
    # one never invited.
    active, invited, never = _email("active"), _email("invite"), _email("jamais")
    active_id, invited_id, never_id = (_contact(platform, e) for e in (active, invited, never))
    invite(gateway, platform, active_id)
    invite(gateway, platform, invited_id)
    visitor = page.context.browser.new_context(locale="fr-FR").new_page()
    complete_invitation(visitor, platform, mail_link(platform.mail, active), active)
    # the invitation, then the security notice of the password she chose
    platform.mail.wait_for(active, count=2)
    mails_to_active = platform.mail.count_for(active)
    visitor.context.close()

    # The coordinator follows their own invitation (it ends on the admin console's address), then
    # signs in to the portal.
    start_invitation(page, mail_link(platform.mail, coordinator))
    choose_password(page, PASSWORD)
    accept_terms(page)
    page.wait_for_selector("#kc-info-message")
    sign_in_staff(page, platform.portal_url, coordinator, PASSWORD)
    expect_signed_in(page, platform.portal_url, coordinator)

    page.goto(f"{platform.portal_url}/coordination/")
    page.click(f"a[data-groupement='{CODE}']")
    page.wait_for_selector("section[data-lot='1']")
    assert {
        name: counter(page, name)
        for name in ("contacts", "invites", "expires", "non-invites", "actives", "cgu")
    } == {
        "contacts": "3",
        "invites": "1",
        "expires": "0",
        "non-invites": "1",
        "actives": "1",
        "cgu": "1",
    }
    assert "1 sur 3 (33 %)" in page.locator("section[data-lot='1']").inner_text()
    assert page.locator(f"tr[data-personne='{active_id}'] td.etat").inner_text() == "Activé"
    assert page.locator(f"tr[data-personne='{active_id}'] td.connexion").inner_text() != "Jamais"
    assert page.locator(f"tr[data-personne='{invited_id}'] td.etat").inner_text() == "Invité"
    assert page.locator(f"tr[data-personne='{never_id}'] td.etat").inner_text() == "Non invité"
    assert serious_violations(page) == []

    page.click("#filtre-non-actives")
    page.wait_for_selector("#filtre-actif")
    assert page.locator(f"tr[data-personne='{active_id}']").count() == 0
    assert page.locator("tr[data-personne]").count() == 2

    page.click("#filtre-tous")
    with page.expect_download() as download:
        page.click("#export-csv")
    target = tmp_path / "suivi.csv"
    download.value.save_as(target)
    content = target.read_bytes()
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert sorted((row[5], row[7]) for row in rows[1:]) == sorted(
        [(active, "Activé"), (invited, "Invité"), (never, "Non invité")]
    )

    # Re-send to everyone not activated: a confirmation first, with how many.
    page.click("#lien-relance")
    assert page.locator("h1").inner_text() == "Renvoyer l’invitation à 2 personnes non activées ?"
    page.click("#confirmer-relance")
    page.wait_for_selector("section[data-lot='1']")
    assert "2 invitations renvoyées." in page.locator(".messages").inner_text()
    assert "/login-actions/" in mail_link(platform.mail, invited, count=2)
    assert "/login-actions/" in mail_link(platform.mail, never)
    assert platform.mail.count_for(active) == mails_to_active  # activated: no re-send
    assert counter(page, "invites") == "2"

    # The home page now links here, without asking Keycloak anything more.
    page.goto(f"{platform.portal_url}/")
    page.click("#lien-coordination")
    page.wait_for_selector(f"a[data-groupement='{CODE}']")
