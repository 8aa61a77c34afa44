"""Support withdraws a collection function (with a confirmation page) and changes a person's
e-mail (to be confirmed by the person): what is read, what is written in one call, and nothing
written on refusal or outage."""

from __future__ import annotations

import json
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core.validation import EMAIL_INVALID
from portal.web.support import forms as support_forms
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_A, SCOPE_B, SIREN_A, group_json
from tests.helpers.pages import assert_field_error, flashes, get_page, html
from tests.helpers.personas import MEMBER, OUTSIDER, SUPPORT_USER
from tests.helpers.settings import ADMIN_USERS_URL

from .test_support_diagnosis import diagnose, diagnosis_of

Post = Callable[..., TestResponse]
MEMBER_ID = MEMBER["id"]
MEMBER_URL = f"{ADMIN_USERS_URL}/{MEMBER_ID}"
REVOKE = f"/support/personnes/{MEMBER_ID}/collecte/{SIREN_A}/1/retirer"
CHANGE_EMAIL = f"/support/personnes/{MEMBER_ID}/email"
#: MEMBER, collection contact of SCOPE_A and of SCOPE_B.
TWO_SCOPES = {**MEMBER, "attributes": {**MEMBER["attributes"], "collecte": [SCOPE_A, SCOPE_B]}}


def last_change(api: AdminApi, person_id: str = MEMBER_ID) -> dict[str, Any]:
    return dict(json.loads(api.people[person_id]["attributes"]["derniereModification"][0]))


# --- the way to it ----------------------------------------------------------------------------


def test_the_diagnosis_links_to_each_withdrawal_and_to_the_email_change(
    client: FlaskClient, support: AdminApi
) -> None:
    diagnosis_of(support, TWO_SCOPES, password=1795000000000, logins=(1795881002000,))
    page = diagnose(client, MEMBER["email"])
    links = page.by_id("fonctions-collecte").find_all("a", class_="retirer-collecte")
    assert [(a.attrs["data-perimetre"], a.attrs["href"]) for a in links] == [
        (SCOPE_A, REVOKE),
        ("253500011/1", f"/support/personnes/{MEMBER_ID}/collecte/253500011/1/retirer"),
    ]
    assert page.by_id("changer-email").attrs["href"] == CHANGE_EMAIL


# --- withdrawing a collection function ---------------------------------------------------------


@pytest.mark.parametrize("principal", [True, False])
def test_the_confirmation_page_says_what_will_happen_and_writes_nothing(
    client: FlaskClient, support: AdminApi, principal: bool
) -> None:
    support.person(MEMBER)
    owner = MEMBER_ID if principal else "someone-else"
    support.adherent(SIREN_A, group_json(SIREN_A, lot_1=owner))

    page = get_page(client, REVOKE)

    text = page.by_id("retrait-collecte").text()
    assert "Marie Dupont (marie.dupont@demoville.fr)" in text
    assert "ne sera plus interlocuteur de collecte pour le SIREN 213500010 et le lot 1" in text
    assert "C’était sa dernière fonction d’interlocuteur de collecte" in text
    if principal:
        assert (
            "reste interlocuteur principal affiché, sans accès"
            in page.by_id("reste-principal").text()
        )
    else:
        assert not page.find_all(id="reste-principal")
    form = page.by_id("retrait-collecte").find("form")
    assert form.attrs["action"] == REVOKE and form.find_all("input", name="csrf_token")
    assert support.writes() == []


def test_withdrawing_writes_once_and_never_touches_the_principal(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.person(TWO_SCOPES)
    support.adherent(SIREN_A, group_json(SIREN_A, lot_1=MEMBER_ID))
    support.accept_update(MEMBER_ID)

    response = post(REVOKE)

    assert response.status_code == 302
    assert response.location == f"/support/diagnostic?email={MEMBER['email']}"
    assert support.writes() == [f"PUT {MEMBER_URL}"]  # no group write: the principal stays
    assert support.people[MEMBER_ID]["attributes"]["collecte"] == [SCOPE_B]
    change = last_change(support)
    assert change["par"] == SUPPORT_USER["email"]
    assert change["quoi"] == f"retrait de la fonction d'interlocuteur de collecte {SCOPE_A}"
    assert flashes(client) == [
        (
            "info",
            "Fonction d'interlocuteur de collecte retirée : marie.dupont@demoville.fr n'est plus "
            f"interlocuteur de collecte pour {SCOPE_A}. "
            "Il reste interlocuteur principal affiché, sans accès.",
        )
    ]


def test_withdrawing_the_last_function_says_access_is_gone(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.person(MEMBER)
    support.adherent(SIREN_A)
    support.accept_update(MEMBER_ID)
    post(REVOKE)
    assert support.people[MEMBER_ID]["attributes"].get("collecte", []) == []
    [(_, message)] = flashes(client)
    assert message.endswith("Il n'a plus accès à la plateforme de collecte.")
    assert "principal" not in message


def test_a_function_not_held_is_not_found_and_a_late_post_changes_nothing(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    other = f"/support/personnes/{MEMBER_ID}/collecte/{SIREN_A}/2/retirer"
    support.person(MEMBER)
    assert client.get(other).status_code == 404
    response = post(other)
    assert response.status_code == 302 and support.writes() == []
    assert flashes(client) == [
        (
            "info",
            f"marie.dupont@demoville.fr n'est déjà plus interlocuteur de collecte pour "
            f"{SIREN_A}/2 : rien n'a été modifié.",
        )
    ]


def test_keycloak_failing_the_write_gives_the_unavailable_page_and_nothing_written(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    support.person(MEMBER)
    support.adherent(SIREN_A)
    support.kc.put(MEMBER_URL, status=503, json={"error": "unavailable"})

    response = post(REVOKE)

    assert response.status_code == 503
    assert "Service momentanément indisponible" in html(response).find("h1").text()
    assert support.people[MEMBER_ID] == MEMBER and flashes(client) == []


def test_unknown_person_or_bad_scope_is_not_found(client: FlaskClient, support: AdminApi) -> None:
    support.unknown_person(MEMBER_ID)
    assert client.get(REVOKE).status_code == 404
    assert client.get(f"/support/personnes/{MEMBER_ID}/collecte/123/1/retirer").status_code == 404


# --- changing a person's e-mail --------------------------------------------------------------

NEW = "marie.dupont@nouvelle-adresse.fr"


def email_page(api: AdminApi, person: dict[str, Any] = MEMBER, *roles: str) -> None:
    """What the page reads: the person, and whether they are staff."""
    api.person(person)
    api.roles(person["id"], *roles)


def test_the_form_shows_the_current_address(client: FlaskClient, support: AdminApi) -> None:
    email_page(support)
    page = get_page(client, CHANGE_EMAIL)
    assert page.by_id("email-actuel").text() == MEMBER["email"]
    assert page.find("input", name="email").attrs["type"] == "email"
    assert support.writes() == []


def test_one_write_sets_the_address_unverified_with_verify_email(
    client: FlaskClient, support: AdminApi, post: Post, outbox: list[EmailMessage]
) -> None:
    email_page(support)
    support.email_search(NEW, [])
    support.accept_update(MEMBER_ID)

    response = post(CHANGE_EMAIL, {"email": " Marie.Dupont@Nouvelle-Adresse.fr "})

    assert response.status_code == 302
    assert response.location == f"/support/diagnostic?email={NEW}"
    assert support.writes() == [f"PUT {MEMBER_URL}"]
    [sent] = support.sent("PUT", MEMBER_URL)
    assert (sent["email"], sent["username"], sent["emailVerified"]) == (NEW, NEW, False)
    assert "VERIFY_EMAIL" in sent["requiredActions"]
    assert "terms_and_conditions" not in sent["attributes"]  # Keycloak's own, never sent back
    change = last_change(support)
    assert change["par"] == SUPPORT_USER["email"]
    assert change["quoi"] == f"adresse e-mail changée ({MEMBER['email']} → {NEW}), à confirmer"
    [(_, message)] = flashes(client)
    assert message.startswith(f"Adresse e-mail changée : {NEW}. La personne doit la confirmer")
    # the security notice, to the old address (no longer signs in) and to the new one
    old, new = outbox
    assert (old["To"], old["Subject"]) == (
        MEMBER["email"],
        "Sécurité de votre compte : adresse e-mail remplacée",
    )
    assert f"par {NEW}" in old.get_content() and "support de la plateforme" in old.get_content()
    assert (new["To"], new["Subject"]) == (
        NEW,
        "Sécurité de votre compte : nouvelle adresse e-mail",
    )


def test_the_change_stands_and_the_support_is_told_when_the_notice_cannot_be_sent(
    client: FlaskClient, support: AdminApi, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    email_page(support)
    support.email_search(NEW, [])
    support.accept_update(MEMBER_ID)

    def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("messagerie arrêtée")

    monkeypatch.setattr("portal.core.notify.smtplib.SMTP", refused)
    response = post(CHANGE_EMAIL, {"email": NEW})

    assert response.status_code == 302
    assert support.writes() == [f"PUT {MEMBER_URL}"]
    [(_, done), (category, failed)] = flashes(client)
    assert done.startswith("Adresse e-mail changée")
    assert (category, failed) == ("erreur", support_forms.EMAIL_NOTICE_FAILED)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", support_forms.NEW_EMAIL_REQUIRED),
        ("pas-une-adresse", EMAIL_INVALID),
        (MEMBER["email"].upper(), support_forms.EMAIL_SAME),
    ],
)
def test_bad_address_is_said_next_to_the_field_and_nothing_written(
    support: AdminApi, post: Post, typed: str, message: str
) -> None:
    email_page(support)
    response = post(CHANGE_EMAIL, {"email": typed})
    assert response.status_code == 422
    assert_field_error(response, "email", message)
    assert support.writes() == []


def test_an_address_of_someone_else_is_refused_without_saying_whose(
    support: AdminApi, post: Post
) -> None:
    email_page(support)
    support.email_search(OUTSIDER["email"], [OUTSIDER])
    response = post(CHANGE_EMAIL, {"email": OUTSIDER["email"]})
    assert response.status_code == 422
    page = assert_field_error(response, "email", support_forms.EMAIL_TAKEN)
    assert "Paul" not in page.text() and "Autre" not in page.text()
    assert support.writes() == []


def test_an_address_taken_since_the_check_is_refused_by_keycloak(
    support: AdminApi, post: Post
) -> None:
    email_page(support)
    support.email_search(NEW, [])
    support.kc.put(MEMBER_URL, status=409, json={"errorMessage": "User exists with same email"})
    response = post(CHANGE_EMAIL, {"email": NEW})
    assert_field_error(response, "email", support_forms.EMAIL_TAKEN)
    assert support.people[MEMBER_ID] == MEMBER


def test_a_staff_address_is_not_changed_from_the_portal(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    email_page(support, MEMBER, "coordonnateur", "equipe-plateforme")
    page = get_page(client, CHANGE_EMAIL)
    assert page.by_id("email-personnel").text() == support_forms.STAFF_EMAIL
    assert not page.find_all("input", name="email")
    response = post(CHANGE_EMAIL, {"email": NEW})
    assert response.status_code == 422 and support.writes() == []


def test_keycloak_down_during_the_change_gives_the_unavailable_page(
    client: FlaskClient, support: AdminApi, post: Post
) -> None:
    email_page(support)
    support.email_search(NEW, [])
    support.kc.put(MEMBER_URL, status=502, body="")
    response = post(CHANGE_EMAIL, {"email": NEW})
    assert response.status_code == 503
    assert support.people[MEMBER_ID] == MEMBER and flashes(client) == []
