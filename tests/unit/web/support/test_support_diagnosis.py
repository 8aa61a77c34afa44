"""« Pourquoi ne peut-elle pas se connecter ? » : the diagnosis page, re-invitation, unlocking,
and the history of changes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core.dates import date_paris
from portal.core.services.diagnostic import action_label
from portal.web import fields
from portal.web.support import forms as support_forms
from tests.helpers.admin_api import AdminApi, without_revision
from tests.helpers.admin_api_json import (
    CGU_VERSION,
    MASTER_REALM_ID,
    PORTAL_ACCOUNT_ID,
    REALM_ID,
    SCOPE_A,
    SIREN_A,
    user_json,
)
from tests.helpers.pages import Element, flashes, get_page, html
from tests.helpers.personas import MEMBER, SUPPORT_USER, TECHNICIAN
from tests.helpers.settings import ADMIN_REALM_URL, ADMIN_USERS_URL

Post = Callable[..., TestResponse]
NOW = int(time.time())
WEEK = 7 * 24 * 3600
PASSWORD_SET = 1795000000000  # 18/11/2026 à 12:06 (heure de Paris), in epoch milliseconds
LOGGED_IN = 1795881002000  # 28/11/2026 à 16:50 (heure de Paris)
INVITED = {
    **user_json(
        "i0000000-0000-4000-8000-00000000000i",
        "ines.invitee@demoville.fr",
        "Inès",
        "Invitée",
        collecte=[SCOPE_A],
        invitationEnvoyeeLe=[str(NOW - 3600)],
        invitationExpireLe=[str(NOW - 3600 + WEEK)],
    ),
    "emailVerified": False,
    "requiredActions": ["TERMS_AND_CONDITIONS", "VERIFY_EMAIL"],
}
INVITED_ID = INVITED["id"]
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


# --- re-inviting and unlocking ----------------------------------------------------------------

REINVITE = f"/support/personnes/{INVITED_ID}/reinviter"
UNLOCK = f"/support/personnes/{MEMBER['id']}/deverrouiller"


def test_reinvite(client: FlaskClient, support: AdminApi, post: Post) -> None:
    support.person(INVITED)
    support.realm(lifespan=3 * 24 * 3600)
    support.accept_update(INVITED_ID)
    support.accept_invitation(INVITED_ID)

    response = post(REINVITE, {"email": INVITED["email"]})

    assert response.status_code == 302
    assert response.location == "/support/diagnostic?email=ines.invitee@demoville.fr"
    url = f"{ADMIN_USERS_URL}/{INVITED_ID}"
    assert support.writes() == [
        f"PUT {url}",
        f"PUT {url}/execute-actions-email?client_id=collecte-portail&lifespan=259200"
        "&redirect_uri=http%3A%2F%2Flocalhost%2Fconnexion",
    ]
    attributes = support.people[INVITED_ID]["attributes"]
    sent, expires = (
        int(attributes[name][0]) for name in ("invitationEnvoyeeLe", "invitationExpireLe")
    )
    assert expires - sent == 3 * 24 * 3600 and sent >= NOW
    assert json.loads(attributes["derniereModification"][0])["quoi"] == "invitation renvoyée"
    until = date_paris(datetime.fromtimestamp(expires, UTC))
    assert flashes(client) == [
        (
            "info",
            f"Nouvelle invitation envoyée, valable jusqu'au {until} ; "
            "les liens précédents ne fonctionnent plus.",
        )
    ]


def test_reinvite_when_mail_is_down_leaves_nothing(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.person(INVITED)
    support.realm()
    support.accept_update(INVITED_ID)
    support.accept_invitation(INVITED_ID, status=500)

    response = post(REINVITE, {"email": INVITED["email"]})

    assert response.status_code == 503
    assert "L'invitation n'a pas pu être envoyée" in html(response).by_id("contenu").text()
    assert without_revision(support.people[INVITED_ID]) == INVITED["attributes"]
    assert flashes(client) == []


@pytest.mark.parametrize("url", [REINVITE, UNLOCK])
@pytest.mark.parametrize("email", ["", "pas-une-adresse"])
def test_a_tampered_form_is_refused_and_writes_nothing(
    support: AdminApi, post: Post, url: str, email: str
) -> None:
    assert post(url, {"email": email}).status_code == 400
    assert support.writes() == []


def test_unlock(client: FlaskClient, support: AdminApi, post: Post) -> None:
    support.person(MEMBER)
    support.accept_unlock(MEMBER["id"])

    response = post(UNLOCK, {"email": MEMBER["email"]})

    assert response.location == "/support/diagnostic?email=marie.dupont@demoville.fr"
    assert support.writes() == [
        f"DELETE {ADMIN_REALM_URL}/attack-detection/brute-force/users/{MEMBER['id']}"
    ]
    assert flashes(client) == [("info", "Compte déverrouillé.")]


@pytest.mark.parametrize("url", [REINVITE, UNLOCK])
def test_acting_on_a_person_who_no_longer_exists_is_not_found(
    support: AdminApi, post: Post, url: str
) -> None:
    support.unknown_person(url.split("/")[3])
    response = post(url, {"email": "x@demoville.fr"})
    assert response.status_code == 404
    assert support.writes() == []


# --- history ----------------------------------------------------------------------------------


def admin_event(
    at: int,
    operation: str,
    by_user: str = PORTAL_ACCOUNT_ID,
    change: dict[str, str] | None = None,
    realm_id: str = REALM_ID,
) -> dict[str, Any]:
    """An admin event as Keycloak records it: ``authDetails`` names the caller (realm, client,
    user of the token); the representation is what the caller sent."""
    representation = (
        json.dumps({"attributes": {"derniereModification": [json.dumps(change)]}})
        if change
        else None
    )
    return {
        "time": at,
        "realmId": REALM_ID,
        "operationType": operation,
        "resourceType": "USER",
        "resourcePath": f"users/{MEMBER['id']}",
        "authDetails": {"realmId": realm_id, "clientId": "c-1", "userId": by_user},
        "representation": representation,
    }


REFUSED = {
    "par": "sam.support@collecte.fr",
    "le": "2026-11-28T15:50:02+00:00",
    "quoi": "demande refusée : Doublon",
}
MEMBER_EVENTS = [
    admin_event(LOGGED_IN, "UPDATE", change=REFUSED),
    admin_event(PASSWORD_SET, "ACTION", by_user=SUPPORT_USER["id"]),
]


def history_rows(page: Element) -> list[list[str]]:
    table = page.by_id("historique")
    return [[c.text() for c in row.find_all("td")] for row in table.find("tbody").find_all("tr")]


def test_history_of_a_person(client: FlaskClient, support: AdminApi) -> None:
    support.email_search(MEMBER["email"], [MEMBER])
    support.portal_account()
    support.admin_events(MEMBER["id"], MEMBER_EVENTS)
    support.person(MEMBER)
    support.person(SUPPORT_USER)  # who acted, when the portal did not make the call

    page = get_page(client, f"/support/historique?email={MEMBER['email']}")

    assert history_rows(page) == [
        [
            "28/11/2026 à 16:50 (heure de Paris)",
            "sam.support@collecte.fr",
            "demande refusée : Doublon",
            "marie.dupont@demoville.fr",
        ],
        [
            "18/11/2026 à 12:06 (heure de Paris)",
            "sam.support@collecte.fr",
            "action",
            "marie.dupont@demoville.fr",
        ],
    ]
    headers = [th.text() for th in page.by_id("historique").find("thead").find_all("th")]
    assert headers == ["Date", "Par", "Modification", "Personne concernée"]


COORDINATOR = user_json(
    "c0000000-0000-4000-8000-00000000000c", "claire.coord@grp-demo.fr", "Claire", "Coord"
)


def test_the_author_is_whoever_keycloak_says_called_never_the_field_they_wrote(
    client: FlaskClient, support: AdminApi
) -> None:
    """A coordinator (or an administrator) who writes `derniereModification` naming support is
    named himself: only the portal's own calls are read from that field."""
    forged = {**REFUSED, "quoi": "fait par le support"}
    events = [
        admin_event(LOGGED_IN, "UPDATE", by_user=COORDINATOR["id"], change=forged),
        admin_event(
            LOGGED_IN - 1000, "UPDATE", by_user="b-1", change=forged, realm_id=MASTER_REALM_ID
        ),
        admin_event(LOGGED_IN - 2000, "ACTION", change=None),
    ]
    events[2]["resourcePath"] += "/execute-actions-email"
    support.email_search(MEMBER["email"], [MEMBER])
    support.portal_account()
    support.admin_events(MEMBER["id"], events)
    support.person(MEMBER)
    support.person(COORDINATOR)

    page = get_page(client, f"/support/historique?email={MEMBER['email']}")

    assert [row[1:3] for row in history_rows(page)] == [
        ["claire.coord@grp-demo.fr", "modification"],
        ["administrateur de la plateforme (compte b-1)", "modification"],
        ["portail (compte de service)", "envoi d’un e-mail d’actions"],
    ]
    assert "sam.support@collecte.fr" not in page.by_id("historique").text()


def test_the_portal_account_is_read_once_per_gateway(
    client: FlaskClient, support: AdminApi
) -> None:
    support.email_search(MEMBER["email"], [MEMBER])
    support.portal_account()
    support.admin_events(MEMBER["id"], MEMBER_EVENTS[:1])
    support.person(MEMBER)
    for _ in range(2):
        get_page(client, f"/support/historique?email={MEMBER['email']}")
    realm_reads = [c for c in support.kc.calls if c.request.url == ADMIN_REALM_URL]
    assert len(realm_reads) == 1


def test_history_of_a_siren(client: FlaskClient, support: AdminApi) -> None:
    support.adherent(SIREN_A)
    support.scope_searches(SCOPE_A, collecte=[MEMBER], technique=[MEMBER])
    support.scope_searches(f"{SIREN_A}/2")
    support.portal_account()
    support.admin_events(MEMBER["id"], MEMBER_EVENTS[:1])
    support.person(MEMBER)

    page = get_page(client, f"/support/historique?siren={SIREN_A}")

    [row] = page.by_id("historique").find("tbody").find_all("tr")
    assert "demande refusée : Doublon" in row.text()
    assert page.find("h2", id="titre-historique").text() == f"Modifications du SIREN {SIREN_A}"


def test_no_history(client: FlaskClient, support: AdminApi) -> None:
    support.email_search("personne@demoville.fr", [])
    page = get_page(client, "/support/historique?email=personne@demoville.fr")
    assert page.by_id("aucune-modification").text() == "Aucune modification n’est enregistrée."
    assert not page.find_all(id="historique")


@pytest.mark.parametrize(
    ("query", "error_id", "message"),
    [
        (f"email={MEMBER['email']}&siren={SIREN_A}", None, support_forms.HISTORY_ONE_CRITERION),
        ("siren=123", "siren-erreur", fields.SIREN_INVALID),
        ("email=pas-une-adresse", "email-erreur", fields.EMAIL_INVALID),
    ],
)
def test_bad_history_criteria_read_nothing(
    client: FlaskClient, support: AdminApi, query: str, error_id: str | None, message: str
) -> None:
    page = get_page(client, f"/support/historique?{query}")
    shown = page.by_id(error_id) if error_id else page.find("p", class_="erreur-formulaire")
    assert shown.text() == message
    assert not page.find_all(id="historique")


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
