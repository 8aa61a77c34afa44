"""« Pourquoi ne peut-elle pas se connecter ? » : the diagnosis page, condition by condition
(states, details, dates, solutions, verdict, the re-invite and unlock buttons it offers), and
the French labels of Keycloak's required actions. Re-inviting, unlocking and the history of
changes: test_support_reinvite_unlock_history.py. test_support_account_actions.py reuses
this module's ``diagnosis_of`` and ``diagnose``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from portal.core.dates import date_paris
from portal.core.services.diagnostic import action_label
from portal.web import fields
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import CGU_VERSION, SCOPE_A, user_json
from tests.helpers.pages import Element, get_page
from tests.helpers.personas import MEMBER, SUPPORT_USER, TECHNICIAN

from ._diagnosis_support import INVITED, INVITED_ID, LOGGED_IN, NOW, PASSWORD_SET, WEEK

CONDITIONS = [
    "connu",
    "collecte",
    "actif",
    "active",
    "email",
    "cgu",
    "verrouille",
    "actions",
    "connexion",
    "invitation",
]


def diagnosis_of(
    api: AdminApi,
    person: dict[str, Any],
    *,
    password: int | None = None,
    locked: bool = False,
    logins: tuple[int, ...] = (),
    roles: tuple[str, ...] = (),
    cgu_version: str | None = CGU_VERSION,
) -> None:
    """What Keycloak says about the person: every read the diagnosis makes."""
    api.email_search(person["email"], [person])
    api.credentials(person["id"], password)
    api.lock(person["id"], locked)
    api.logins(person["id"], *logins)
    api.roles(person["id"], *roles)
    api.realm(cgu_version=cgu_version)
    api.groups_of(person)


def diagnose(client: FlaskClient, email: str) -> Element:
    return get_page(client, f"/support/diagnostic?email={email}")


def rows(page: Element) -> dict[str, Element]:
    return {
        row.attrs["data-condition"]: row
        for row in page.find_all("tr")
        if "data-condition" in row.attrs
    }


def states(page: Element) -> dict[str, str]:
    return {key: row.find("td", class_="etat").text() for key, row in rows(page).items()}


def cell(page: Element, key: str, name: str) -> str:
    return rows(page)[key].find("td", class_=name).text()


# --- the states of a person -------------------------------------------------------------------


def test_an_empty_form_only_shows_the_form(client: FlaskClient, support: AdminApi) -> None:
    page = get_page(client, "/support/diagnostic?email=")
    assert not page.find_all(id="verdict") and not page.find_all(class_="champ__erreur")


def test_a_bad_email_is_shown_next_to_the_field(client: FlaskClient, support: AdminApi) -> None:
    page = get_page(client, "/support/diagnostic?email=pas-une-adresse")
    assert page.by_id("email-erreur").text() == fields.EMAIL_INVALID
    assert not page.find_all(id="verdict")


def test_unknown_email(client: FlaskClient, support: AdminApi) -> None:
    support.email_search("personne@demoville.fr", [])
    page = diagnose(client, "Personne@Demoville.fr")
    assert states(page) == {"connu": "Non"}
    assert "Rapprochez-vous du coordonnateur du groupement." in cell(page, "connu", "solution")
    assert page.by_id("verdict").text() == (
        "Cette personne ne peut pas se connecter : adresse inconnue de la plateforme."
    )
    assert not page.find_all("form", class_="reinviter")
    assert not page.find_all(id="lien-historique")


def test_a_technical_contact_only(client: FlaskClient, support: AdminApi) -> None:
    diagnosis_of(support, TECHNICIAN)
    page = diagnose(client, TECHNICIAN["email"])
    assert list(states(page)) == CONDITIONS
    assert states(page)["collecte"] == "Non"
    assert cell(page, "collecte", "detail") == (
        "Interlocuteur technique : 213500010/1 ; Interlocuteur de facturation : 213500010/1"
    )
    assert "Rapprochez-vous du coordonnateur du groupement." in cell(page, "collecte", "solution")
    add = page.by_id("ajouter-comme-collecte")
    assert add.attrs["href"] == (
        "/support/interlocuteurs/nouveau?nom=Technicien&prenom=Jean"
        "&email=jean.technicien@demoville.fr&telephone_fixe=02+99+00+00+01"
    )
    assert page.by_id("verdict").text() == (
        "Cette personne ne peut pas se connecter : n’est interlocuteur de collecte pour aucun "
        "SIREN ; espace Client non activé."
    )
    # An invitation would not let them in: none is offered.
    assert not page.find_all("form", class_="reinviter")
    assert "il faut d’abord qu’elle soit interlocuteur de collecte" in cell(
        page, "active", "solution"
    )


def test_invited_but_not_activated(client: FlaskClient, support: AdminApi) -> None:
    diagnosis_of(support, INVITED)
    page = diagnose(client, INVITED["email"])
    assert states(page) == {
        "connu": "Oui",
        "collecte": "Oui",
        "actif": "Oui",
        "active": "Non",
        "email": "Non",
        "cgu": "Non",
        "verrouille": "Non",
        "actions": "Oui",
        "connexion": "Non",
        "invitation": "Oui",
    }
    assert cell(page, "collecte", "detail") == "SIREN/lot : 213500010/1"
    assert cell(page, "actions", "detail") == "Accepter les CGU, Confirmer son adresse e-mail"
    assert cell(page, "connexion", "date") == "Jamais"
    assert cell(page, "cgu", "detail") == "Version : —"
    sent = datetime.fromtimestamp(NOW - 3600, UTC)
    expires = datetime.fromtimestamp(NOW - 3600 + WEEK, UTC)
    assert cell(page, "invitation", "date") == date_paris(sent)
    assert cell(page, "invitation", "detail") == f"valable jusqu’au {date_paris(expires)}"
    [form] = page.find_all("form", class_="reinviter")
    assert form in rows(page)["active"].iter()
    assert (form.attrs["method"], form.attrs["action"]) == (
        "post",
        f"/support/personnes/{INVITED_ID}/reinviter",
    )
    assert form.find("input", name="email").attrs["value"] == INVITED["email"]
    assert form.find("input", name="csrf_token").attrs["value"]
    verdict = page.by_id("verdict").text()
    assert verdict == (
        "Cette personne ne peut pas se connecter : espace Client non activé ; adresse e-mail non "
        "confirmée ; CGU non acceptées ; actions requises en attente."
    )
    blocking = [key for key, row in rows(page).items() if "bloquant" in row.attrs.get("class", "")]
    assert blocking == ["active", "email", "cgu", "actions"]
    link = page.by_id("lien-historique")
    assert link.attrs["href"] == "/support/historique?email=ines.invitee@demoville.fr"


def test_locked_after_failed_attempts(client: FlaskClient, support: AdminApi) -> None:
    diagnosis_of(support, MEMBER, password=PASSWORD_SET, locked=True, logins=(LOGGED_IN,))
    page = diagnose(client, MEMBER["email"])
    assert states(page)["verrouille"] == "Oui"
    [form] = page.find_all("form", class_="deverrouiller")
    assert form in rows(page)["verrouille"].iter()
    assert form.attrs["action"] == f"/support/personnes/{MEMBER['id']}/deverrouiller"
    assert form.find("input", name="email").attrs["value"] == MEMBER["email"]
    assert page.by_id("verdict").text() == (
        "Cette personne ne peut pas se connecter : compte verrouillé temporairement."
    )


def test_healthy(client: FlaskClient, support: AdminApi) -> None:
    diagnosis_of(support, MEMBER, password=PASSWORD_SET, logins=(LOGGED_IN,))
    page = diagnose(client, MEMBER["email"])
    assert page.by_id("verdict").text() == "Cette personne peut se connecter."
    assert states(page) == {
        "connu": "Oui",
        "collecte": "Oui",
        "actif": "Oui",
        "active": "Oui",
        "email": "Oui",
        "cgu": "Oui",
        "verrouille": "Non",
        "actions": "Non",
        "connexion": "Oui",
        "invitation": "Non",
    }
    assert cell(page, "active", "date") == "18/11/2026 à 12:06 (heure de Paris)"
    assert cell(page, "cgu", "date") == "28/11/2026 à 16:50 (heure de Paris)"
    assert cell(page, "cgu", "detail") == "Version : 2026-11"
    assert cell(page, "connexion", "date") == "28/11/2026 à 16:50 (heure de Paris)"
    forms = [f for f in page.find_all("form") if "deconnexion" not in (f.attrs.get("class") or "")]
    assert not forms[1:]  # the search form only (the header's sign-out aside)
    assert all(cell(page, key, "solution") == "" for key in CONDITIONS)


def _accepted(version: str | None) -> dict[str, Any]:
    """MEMBER, having accepted the CGU on 28/11/2026 in this version (None: before versions)."""
    attributes = {k: v for k, v in MEMBER["attributes"].items() if k != "cguVersionAcceptee"}
    if version:
        attributes["cguVersionAcceptee"] = [version]
    return {**MEMBER, "attributes": attributes}


@pytest.mark.parametrize(
    ("accepted", "detail"),
    [
        ("2026-05", "Version : 2026-05 (en vigueur : 2026-11)"),
        (None, "Version : — (en vigueur : 2026-11)"),  # accepted before versions were recorded
    ],
)
def test_cgu_accepted_in_another_version_than_the_one_in_force(
    client: FlaskClient, support: AdminApi, accepted: str | None, detail: str
) -> None:
    diagnosis_of(support, _accepted(accepted), password=PASSWORD_SET, logins=(LOGGED_IN,))
    page = diagnose(client, MEMBER["email"])
    assert states(page)["cgu"] == "Non"
    assert "bloquant" in rows(page)["cgu"].attrs.get("class", "")
    assert cell(page, "cgu", "date") == "28/11/2026 à 16:50 (heure de Paris)"
    assert cell(page, "cgu", "detail") == detail
    assert cell(page, "cgu", "solution").startswith(
        "Les CGU ont changé (version 2026-11) : la personne accepte la nouvelle version à sa "
        "prochaine connexion"
    )
    assert page.by_id("verdict").text() == (
        "Cette personne ne peut pas se connecter : CGU en vigueur non acceptées."
    )


def test_without_a_version_in_the_realm_any_acceptance_counts(
    client: FlaskClient, support: AdminApi
) -> None:
    diagnosis_of(
        support, _accepted(None), password=PASSWORD_SET, logins=(LOGGED_IN,), cgu_version=None
    )
    page = diagnose(client, MEMBER["email"])
    assert states(page)["cgu"] == "Oui"
    assert cell(page, "cgu", "detail") == "Version : —"
    assert page.by_id("verdict").text() == "Cette personne peut se connecter."


def test_active_with_an_expired_invitation_may_be_invited_again(
    client: FlaskClient, support: AdminApi
) -> None:
    expired = user_json(
        MEMBER["id"],
        MEMBER["email"],
        "Marie",
        "Dupont",
        collecte=[SCOPE_A],
        terms_and_conditions=["1795881002"],
        cguVersionAcceptee=[CGU_VERSION],
        invitationEnvoyeeLe=[str(NOW - 2 * WEEK)],
        invitationExpireLe=[str(NOW - WEEK)],
    )
    diagnosis_of(support, expired, password=PASSWORD_SET)
    page = diagnose(client, MEMBER["email"])
    assert cell(page, "invitation", "detail").startswith("expirée (valable jusqu’au ")
    [form] = page.find_all("form", class_="reinviter")
    assert form in rows(page)["invitation"].iter()
    assert page.by_id("verdict").text() == "Cette personne peut se connecter."


def test_platform_staff_need_no_collection_scope(client: FlaskClient, support: AdminApi) -> None:
    staff = user_json(
        SUPPORT_USER["id"],
        SUPPORT_USER["email"],
        "Sam",
        "Support",
        terms_and_conditions=["1795881002"],
        cguVersionAcceptee=[CGU_VERSION],
    )
    diagnosis_of(support, staff, password=PASSWORD_SET, roles=("support", "equipe-plateforme"))
    page = diagnose(client, SUPPORT_USER["email"])
    assert states(page)["collecte"] == "Non"
    assert "bloquant" not in rows(page)["collecte"].attrs.get("class", "")
    assert page.by_id("verdict").text() == "Cette personne peut se connecter."


@pytest.mark.parametrize(
    ("action", "label"),
    [
        ("TERMS_AND_CONDITIONS", "Accepter les CGU"),
        ("UPDATE_PASSWORD", "Choisir son mot de passe"),
        ("VERIFY_EMAIL", "Confirmer son adresse e-mail"),
        ("CONFIGURE_TOTP", "CONFIGURE_TOTP"),
    ],
)
def test_required_actions_in_french_others_as_keycloak_names_them(action: str, label: str) -> None:
    assert action_label(action) == label
