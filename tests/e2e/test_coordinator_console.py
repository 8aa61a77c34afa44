"""A coordinator in the real Keycloak admin console, clicked through in Chromium.

tests/integration/test_coordinator_permissions.py and test_coordinator_principals.py prove the
permission matrix over the Admin API; this proves what the coordinator of groupement A actually
sees and can do in the realm's own console
(`/admin/collecte/console/`, client security-admin-console), signed in with their password:

- the console's login page is our French « collecte » login theme, and the console is in French
  with only « Utilisateurs » and « Groupes » in its menu;
- « Utilisateurs » lists and searches A's members only: B's member is not found, and B's member
  opened by URL shows Keycloak's permission error page, none of their data;
- a colleague (not a principal) of A is edited and saved; the principal collection contact
  (`protect_principal`) cannot be: Keycloak answers 403, which the console words « Impossible de
  créer l'utilisateur : HTTP 403 Forbidden »;
- « Identifiants » does show « Saisir le mot de passe », but it fails: for the colleague with our
  password policy's sentence, for the principal with a 403, and no password is stored. Its
  « Réinitialisation des identifiants » only e-mails the colleague a link to choose the password
  themselves (refused for the principal);
- « Groupes » shows A's groupement and its adherents, not B's nor the coordinators' markers.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.journeys import mail_link
from tests.helpers.coordination import (
    PASSWORD,
    Groupement,
    add_colleague,
    adherent,
    groupement,
)
from tests.helpers.second_factor import submit_staff_login

CODE_A, CODE_B = "GRP-CONSOLE-A", "GRP-CONSOLE-B"
SIREN_A, SIREN_A_2, SIREN_B = "213590037", "213590045", "213590060"
REFUSAL = "Seul l’utilisateur choisit son mot de passe"


@pytest.fixture(scope="module")
def world(platform: Any) -> dict[str, Groupement]:
    made = {
        CODE_A: groupement(platform, CODE_A, SIREN_A),
        CODE_B: groupement(platform, CODE_B, SIREN_B),
    }
    adherent(platform.admin, CODE_A, SIREN_A_2)  # reaches A's coordinator through the listener
    return made


@pytest.fixture
def a(world: dict[str, Groupement]) -> Groupement:
    return world[CODE_A]


@pytest.fixture
def b(world: dict[str, Groupement]) -> Groupement:
    return world[CODE_B]


class Member(NamedTuple):
    id: str
    email: str


@pytest.fixture
def colleague(platform: Any, a: Groupement) -> Member:
    """A member of A's adherent who is not its principal."""
    user_id = add_colleague(platform.admin, CODE_A, SIREN_A)
    return Member(user_id, platform.admin.get_user(user_id)["email"])


def menu(page: Page) -> Locator:
    """The console's own menu (the breadcrumb is a navigation too)."""
    return page.get_by_role("navigation", name="Global")


def open_console(page: Page, platform: Any) -> None:
    page.goto(f"{platform.keycloak_url}/admin/collecte/console/")


@pytest.fixture
def console(page: Page, platform: Any, a: Groupement) -> Page:
    """Coordinator A signed in to the console (their password, as after their invitation)."""
    open_console(page, platform)
    submit_staff_login(page, a.coordinator_email, PASSWORD)
    expect(menu(page).get_by_role("link", name="Utilisateurs")).to_be_visible()
    return page


def open_member(page: Page, email: str, tab: str = "Détails") -> None:
    """Utilisateurs › the member › one of their tabs, clicked as a coordinator would. (Changing
    the address from one member to another does not reload the single-page console.)"""
    menu(page).get_by_role("link", name="Utilisateurs").click()
    page.get_by_role("link", name=email).click()
    expect(page.get_by_role("heading", name=email)).to_be_visible()
    page.get_by_role("tab", name=tab).click()


def last_alert(page: Page) -> Locator:
    return page.get_by_test_id("last-alert")


def expect_alert(page: Page, kind: str, text: str) -> None:
    expect(last_alert(page)).to_contain_text(text)
    expect(last_alert(page)).to_have_class(re.compile(rf"pf-m-{kind}"))


def passwords(platform: Any, user_id: str) -> list[Any]:
    return [c for c in platform.admin.get_credentials(user_id) if c["type"] == "password"]


def test_the_console_signs_in_through_our_french_login_theme(
    page: Page, platform: Any, a: Groupement
) -> None:
    open_console(page, platform)
    expect(page.get_by_role("heading", name="Connexion à votre espace Client")).to_be_visible()
    expect(page.locator("#collecte-identifiant-info")).to_be_visible()
    expect(page.locator("link[href*='/login/collecte/css/collecte.css']")).to_have_count(1)
    submit_staff_login(page, a.coordinator_email, PASSWORD)
    expect(menu(page).get_by_role("link")).to_have_text(["Utilisateurs", "Groupes"])


def test_users_lists_and_searches_their_groupement_only(
    console: Page, platform: Any, a: Groupement, b: Groupement, colleague: Member
) -> None:
    menu(console).get_by_role("link", name="Utilisateurs").click()
    expect(console.get_by_role("link", name=a.member_email)).to_be_visible()
    expect(console.get_by_role("link", name=colleague.email)).to_be_visible()
    expect(console.get_by_role("link", name=b.member_email)).to_have_count(0)

    search = console.get_by_placeholder("Chercher un utilisateur")
    search.fill("membre-")
    search.press("Enter")
    expect(console.get_by_role("link", name=a.member_email)).to_be_visible()
    expect(console.get_by_role("link", name=colleague.email)).to_have_count(0)
    search.fill(b.member_email)
    search.press("Enter")
    expect(console.get_by_text("Pas de résultat de recherche")).to_be_visible()

    console.goto(
        f"{platform.keycloak_url}/admin/collecte/console/#/collecte/users/{b.member_id}/settings"
    )
    expect(console.get_by_text("Vous n'avez pas la permission")).to_be_visible()
    expect(console.get_by_text(b.member_email)).to_have_count(0)


def test_a_colleague_is_edited_but_not_the_principal_contact(
    console: Page, platform: Any, a: Groupement, colleague: Member
) -> None:
    open_member(console, colleague.email)
    console.get_by_label("Téléphone mobile").fill("+33612345678")
    console.get_by_role("button", name="Sauvegarder").click()
    expect_alert(console, "success", "L'utilisateur a été sauvegardé")
    assert platform.admin.get_user(colleague.id)["attributes"]["telephoneMobile"] == [
        "+33612345678"
    ]

    open_member(console, a.member_email)
    console.get_by_label(re.compile(r"^Nom\b")).fill("Remplacé")
    console.get_by_role("button", name="Sauvegarder").click()
    expect_alert(console, "danger", "Impossible de créer l'utilisateur\u00a0: HTTP 403 Forbidden")
    assert platform.admin.get_user(a.member_id)["lastName"] == "Membre"


def set_password(page: Page, email: str) -> None:
    """Identifiants › Saisir le mot de passe, then confirm."""
    open_member(page, email, "Identifiants")
    page.get_by_role("button", name="Saisir le mot de passe").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile(r"^Mot de passe")).fill("Pose-par-le-coordo-2025")
    dialog.get_by_label(re.compile(r"^Confirmation de mot de passe")).fill(
        "Pose-par-le-coordo-2025"
    )
    dialog.get_by_role("button", name="Sauvegarder").click()
    page.get_by_role("dialog").get_by_role("button", name="Sauvegarder le mot de passe").click()


def send_password_email(page: Page, email: str) -> None:
    """Identifiants › Réinitialisation des identifiants with « Choisir son mot de passe »."""
    open_member(page, email, "Identifiants")
    page.get_by_role("button", name="Réinitialisation des identifiants").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Menu toggle").click()
    page.get_by_role("option", name="Choisir son mot de passe").click()
    dialog.get_by_role("button", name="Envoyer le courriel").click()


def test_credentials_set_no_password(
    console: Page, platform: Any, a: Groupement, colleague: Member
) -> None:
    set_password(console, colleague.email)
    expect_alert(console, "danger", REFUSAL)
    set_password(console, a.member_email)
    expect_alert(
        console, "danger", "Erreur de sauvegarde du mot de passe\u00a0: HTTP 403 Forbidden"
    )
    assert passwords(platform, colleague.id) == passwords(platform, a.member_id) == []

    send_password_email(console, colleague.email)
    expect_alert(console, "success", "Courriel envoyé à l'utilisateur.")
    assert "/login-actions/" in mail_link(platform.mail, colleague.email)
    send_password_email(console, a.member_email)
    expect_alert(console, "danger", "Échec\u00a0: HTTP 403 Forbidden")
    assert passwords(platform, colleague.id) == []


def test_groups_show_their_groupement_and_its_adherents_only(console: Page) -> None:
    menu(console).get_by_role("link", name="Groupes").click()
    main = console.get_by_role("main")
    expect(main.get_by_role("grid").get_by_role("link")).to_have_text([CODE_A])
    main.get_by_role("link", name=CODE_A).click()
    expect(main.get_by_role("grid").get_by_role("link")).to_have_text([SIREN_A, SIREN_A_2])
