"""A groupement's coordinator imports its member list from the portal, in Chromium, signed in
through the real Keycloak login pages (`/coordination/<groupement>/import`):

- a file with mistakes gets the French line-by-line report (each error on its line, in its
  column), no « Confirmer l’import » button, and nothing is written in Keycloak;
- a correct file gets its report, is confirmed, and the browser lands on the job's page, which
  shows the labelled progress bar while the job runs, followed in place by the portal's script
  (no timed reload of the page), until the outcome and its counters; the collection contact
  gets their invitation, the upload page then lists the import under « Imports récents » with
  who started it;
- both pages (error report, job running and finished) have no serious or critical axe violation;
- the coordinator of another groupement who opens that job's address gets the French 403 page.

tests/unit/web/imports/ covers every branch against a mocked Admin API, and
tests/integration/test_bulk_import.py the writes against the real Keycloak; this proves the
journey a coordinator actually clicks.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from keycloak.exceptions import KeycloakGetError
from playwright.sync_api import Page, expect

from portal.core.keycloak.gateway import KeycloakGateway
from tests.e2e.journeys import expect_signed_in, mail_link, serious_violations
from tests.helpers.coordination import PASSWORD, Groupement, groupement
from tests.helpers.second_factor import sign_in_staff

CODE_A, CODE_B = "GRP-IMPORT-E2E-A", "GRP-IMPORT-E2E-B"
# The adherents the groupements start with, the two the correct file creates, the valid SIREN
# of the file with mistakes (never created), and a SIREN whose check digit is wrong.
SIREN_A, SIREN_B = "213593007", "213593015"
SIREN_ONE, SIREN_TWO = "213593023", "213593031"
SIREN_NEVER, SIREN_BAD = "213593049", "213593048"
HEADER = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"
TITLE = f"Importer les membres du groupement {CODE_A}"
SITE = "Plateforme de collecte des données adhérents"
JOB_URL = re.compile(rf"/coordination/{CODE_A}/import/[A-Za-z0-9_-]{{32}}$")

# The portal's jobs go to each test's folder: « Imports récents » lists this run's only.
pytestmark = pytest.mark.usefixtures("own_temporary_folder")


@pytest.fixture(scope="module")
def world(platform: Any) -> dict[str, Groupement]:
    return {
        CODE_A: groupement(platform, CODE_A, SIREN_A),
        CODE_B: groupement(platform, CODE_B, SIREN_B),
    }


def signed_in(page: Page, platform: Any, coordinator: Groupement) -> Page:
    """The coordinator signs in to the portal through Keycloak's login form."""
    sign_in_staff(page, platform.portal_url, coordinator.coordinator_email, PASSWORD)
    expect_signed_in(page, platform.portal_url, coordinator.coordinator_email)
    return page


@pytest.fixture
def coordinator(page: Page, platform: Any, world: dict[str, Groupement]) -> Page:
    """Groupement A's coordinator, signed in, on A's import page."""
    signed_in(page, platform, world[CODE_A])
    page.goto(f"{platform.portal_url}/coordination/{CODE_A}/import")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    return page


def upload(page: Page, name: str, *lines: str) -> None:
    """Choose the file, then « Vérifier le fichier »."""
    content = "\n".join([HEADER, *lines]) + "\n"
    page.get_by_label("Fichier des membres").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}]
    )
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.locator("#essai h2")).to_have_text(f"Vérification de « {name} »")


def report(page: Page) -> list[tuple[str, ...]]:
    """The rows of « Rapport ligne par ligne »: (line, type, column, message)."""
    return [
        tuple(cell.strip() for cell in row.locator("th, td").all_inner_texts())
        for row in page.locator("#rapport tbody tr").all()
    ]


def users_with(platform: Any, email: str) -> list[Any]:
    return list(platform.admin.get_users({"email": email, "exact": True}))


def adherent_exists(platform: Any, siren: str) -> bool:
    try:
        platform.admin.get_group_by_path(f"/{CODE_A}/{siren}")
    except KeycloakGetError:
        return False
    return True


def test_a_file_with_mistakes_is_reported_line_by_line_and_nothing_is_written(
    coordinator: Page, platform: Any, unique_email: Callable[[str], str]
) -> None:
    page = coordinator
    emails = [unique_email("import-erreur") for _ in range(3)]
    # other tests of this module add adherents to A: compare with what A holds now
    adherents_before = platform.admin.get_group_by_path(f"/{CODE_A}")["subGroupCount"]
    upload(
        page,
        "membres-erreurs.csv",
        f"{emails[0]};Dupont;Marie;;{SIREN_BAD};Commune Erreur;1;collecte",
        f"pas-une-adresse;Martin;Jules;;{SIREN_NEVER};Commune Jamais;1;collecte",
        f"{emails[1]};Durand;Paul;12345;{SIREN_NEVER};Commune Jamais;1;technique",
        f"{emails[2]};Petit;Léa;02 99 00 00 01;{SIREN_NEVER};Commune Jamais;1;collecte",
        f"{emails[2]};Petit;Léa;02 99 00 00 01;{SIREN_NEVER};Commune Jamais;1;collecte",
    )

    expect(page).to_have_title(f"Erreur : {TITLE} – {SITE}")
    expect(page.locator("#bilan")).to_have_text(
        "4 ligne(s) en erreur : rien ne sera importé. Corrigez le fichier puis déposez-le de "
        "nouveau."
    )
    expect(page.locator("#bilan")).to_have_attribute("role", "alert")
    assert report(page) == [
        ("2", "Erreur", "SIREN", "SIREN invalide : 9 chiffres avec une clé de contrôle correcte."),
        (
            "3",
            "Erreur",
            "e-mail",
            "Cette adresse e-mail n’est pas valide (exemple : prenom.nom@exemple.fr).",
        ),
        (
            "4",
            "Erreur",
            "téléphone",
            "Ce numéro de téléphone n’est pas valide (exemple : 01 23 45 67 89).",
        ),
        ("6", "Erreur", "", "Ligne en double : identique à la ligne 5."),
    ]
    expect(page.get_by_role("button", name="Confirmer l’import")).to_have_count(0)
    expect(page.locator("#confirmation")).to_have_count(0)
    # The file can be corrected and uploaded again from the same page.
    expect(page.get_by_role("button", name="Vérifier le fichier")).to_be_visible()
    assert serious_violations(page) == []

    # Nothing was written: no person, no adherent (A holds the adherents it held before).
    for email in emails:
        assert users_with(platform, email) == []
    assert not adherent_exists(platform, SIREN_NEVER)
    assert not adherent_exists(platform, SIREN_BAD)
    assert platform.admin.get_group_by_path(f"/{CODE_A}")["subGroupCount"] == adherents_before


@pytest.fixture
def held_job(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The portal runs in this process: its import job waits for the event before writing, so
    that the browser sees the job running whatever the machine's speed. Set the event to let it
    go on."""
    release = threading.Event()
    apply_import = KeycloakGateway.apply_import

    def held(self: KeycloakGateway, *args: Any, **kwargs: Any) -> Any:
        assert release.wait(60), "the test never let the import job go on"
        return apply_import(self, *args, **kwargs)

    monkeypatch.setattr(KeycloakGateway, "apply_import", held)
    yield release
    release.set()  # never leave a job's thread waiting, even when the test failed


def test_a_correct_file_is_confirmed_and_followed_to_its_outcome(
    coordinator: Page,
    platform: Any,
    world: dict[str, Groupement],
    browser: Any,
    unique_email: Callable[[str], str],
    held_job: threading.Event,
) -> None:
    page = coordinator
    a = world[CODE_A]
    collection, technical = unique_email("import-collecte"), unique_email("import-technique")
    upload(
        page,
        "membres.csv",
        f"{collection};Dupont;Marie;02 99 00 00 01;{SIREN_ONE};Commune Une;1 2;collecte",
        f"{collection};Dupont;Marie;;{SIREN_TWO};Syndicat Deux;1;collecte",
        f"{technical};Durand;Paul;06 12 34 56 78;{SIREN_ONE};Commune Une;1;technique",
    )
    expect(page).to_have_title(f"{TITLE} – {SITE}")
    expect(page.locator("#bilan")).to_have_text(
        "Aucune erreur. Seront créés ou modifiés : 2 adhérent(s), 2 personne(s) nouvelle(s) dans "
        "le groupement, 0 personne(s) du groupement complétée(s) ; 1 invitation(s) envoyée(s)."
    )
    assert report(page) == []  # new people: nothing to report line by line
    assert users_with(platform, collection) == []  # the dry run wrote nothing

    page.get_by_role("button", name="Confirmer l’import").click()
    page.wait_for_url(JOB_URL)
    job_url = page.url
    job_id = job_url.rsplit("/", 1)[1]

    # Running (held): the labelled progress bar, followed in place by the portal's script.
    expect(page).to_have_title(f"Import en cours (0 étape(s) sur 5) – {TITLE} – {SITE}")
    progress = page.get_by_label("Avancement de l’import")
    expect(progress).to_have_attribute("max", "5")
    expect(progress).to_have_attribute("value", "0")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    expect(page.locator("script[src='/static/tache.js']")).to_have_count(1)
    expect(page.locator("#lancement")).to_contain_text(
        f"Import de « membres.csv » lancé par {a.coordinator_email} le "
    )
    assert serious_violations(page) == []

    # Let the job go on: the test only waits, the page's own script brings the outcome.
    held_job.set()
    expect(page.locator("#compteurs")).to_be_visible(timeout=60_000)
    expect(page).to_have_title(f"Import terminé – {TITLE} – {SITE}")
    expect(page.locator("#titre-resultat")).to_have_text("Import de « membres.csv » terminé")
    counters = page.locator("#compteurs li")
    assert dict(
        zip(
            counters.evaluate_all("items => items.map(item => item.dataset.compteur)"),
            counters.all_inner_texts(),
            strict=True,
        )
    ) == {
        "crees": "Personnes créées : 2",
        "modifiees": "Personnes complétées : 0",
        "adherents": "Adhérents créés : 2",
        "invitations": "Invitations envoyées : 1",
        "inchangees": "Lignes sans changement : 0",
    }
    expect(page.locator("#echecs")).to_have_count(0)
    assert serious_violations(page) == []

    # Keycloak holds the file; only the collection contact is invited.
    assert "/login-actions/" in mail_link(platform.mail, collection)
    assert platform.mail.count_for(technical) == 0
    assert len(users_with(platform, collection)) == len(users_with(platform, technical)) == 1
    one = platform.admin.get_group_by_path(f"/{CODE_A}/{SIREN_ONE}")
    two = platform.admin.get_group_by_path(f"/{CODE_A}/{SIREN_TWO}")
    assert one["attributes"]["raisonSociale"] == ["Commune Une"]
    assert sorted(one["attributes"]["lots"]) == ["1", "2"]
    assert two["attributes"]["raisonSociale"] == ["Syndicat Deux"]

    # The upload page lists the import, who started it, and links to its page.
    page.get_by_role("link", name="Importer un autre fichier").click()
    row = page.locator(f"#imports-recents tr[data-tache='{job_id}']")
    expect(row.locator("th")).to_have_text("membres.csv")
    expect(row.locator("td").nth(0)).to_have_text(a.coordinator_email)
    expect(row.locator("td").nth(2)).to_have_text("terminé")
    assert row.get_by_role("link", name="membres.csv").get_attribute("href") == (
        f"/coordination/{CODE_A}/import/{job_id}"
    )

    # Groupement B's coordinator opening that address: the French 403 page, nothing of the job.
    context = browser.new_context(locale="fr-FR")
    other = signed_in(context.new_page(), platform, world[CODE_B])
    response = other.goto(job_url)
    assert response is not None and response.status == 403
    expect(other).to_have_title(f"Accès refusé – {SITE}")
    expect(other.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    expect(other.get_by_role("main")).to_contain_text(
        "Cette page est réservée aux coordonnateurs du groupement concerné et au support de la "
        "plateforme de collecte."
    )
    expect(other.get_by_role("main")).not_to_contain_text("membres.csv")
    expect(other.get_by_role("main")).not_to_contain_text(a.coordinator_email)
    # Nor through their own groupement's address: that job is not theirs.
    response = other.goto(f"{platform.portal_url}/coordination/{CODE_B}/import/{job_id}")
    assert response is not None and response.status == 404
    expect(other.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    context.close()
