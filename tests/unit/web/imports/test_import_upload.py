"""Import page `/coordination/<groupement>/import` up to the dry run: who may use it, the
upload form and its file checks (type, size limits), the dry run report, the CSRF check of the
confirmation, and SIRENs another groupement already holds, against the Admin API as Keycloak
answers it (strict mocks); nothing is written."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from responses import matchers

from portal.web.gateway import get_gateway
from tests.helpers.admin_api import BY_SIREN_URL, AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, SIREN_A, group_json
from tests.helpers.pages import assert_accessible, html
from tests.helpers.personas import SUPPORT_USER, TECHNICIAN
from tests.helpers.settings import ADMIN_GROUPS_URL, ADMIN_REALM_URL

from ._support import OTHER_COORDINATOR, URL, SignIn, groupement_state, staff_groups, upload

#: A valid SIREN that is an adherent of another groupement, GRP-Y.
SIREN_Y = "552081317"


def test_a_coordinator_of_another_groupement_is_refused(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn, csrf_token: Callable[[], str]
) -> None:
    admin_api.token()
    admin_api.roles(OTHER_COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, OTHER_COORDINATOR["id"], "GRP-NORD")
    sign_in_as(OTHER_COORDINATOR)
    response = upload(client, csrf_token(), f"a@exemple.fr;A;B;;{SIREN_A};C;1;collecte")
    assert response.status_code == 403
    assert admin_api.writes() == []


def test_a_member_is_refused(client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn) -> None:
    admin_api.token()
    admin_api.roles(TECHNICIAN["id"])
    sign_in_as(TECHNICIAN)
    assert client.get(URL).status_code == 403


def test_the_form_and_its_file_checks(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    support.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    page = html(client.get(URL))
    assert page.find("input", type="file").attrs["name"] == "fichier"
    response = upload(client, csrf_token(), "x", name="membres.pdf")
    assert response.status_code == 422
    assert "CSV (.csv) ou Excel (.xlsx)" in html(response).text()
    assert support.writes() == []


def test_dry_run_report_with_errors_offers_no_confirmation(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    groupement_state(support, [TECHNICIAN], [group_json(SIREN_A)])
    response = upload(
        client,
        csrf_token(),
        f"{TECHNICIAN['email']};Technicien;Jean;;{SIREN_A};;1;collecte",
        "x@exemple.fr;A;B;;213500011;C;1;collecte",
    )
    assert response.status_code == 200
    page = html(response)
    rows = page.by_id("rapport").find_all("tr", **{"data-ligne": "3"})
    assert rows[0].attrs["class"] == "erreur"
    assert "SIREN invalide" in rows[0].text()
    notice = page.by_id("rapport").find("tr", **{"data-ligne": "2"})
    assert notice.attrs["class"] == "notice"
    assert "fonction « collecte » ajoutée" in notice.text()
    assert not page.find_all("form", id="confirmation")
    assert support.writes() == []


# --- request size -------------------------------------------------------------------------------


def test_a_body_above_the_limit_gets_the_french_413_page_before_anything_else(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn, csrf_token: Callable[[], str]
) -> None:
    sign_in_as(SUPPORT_USER)
    data = b"x" * (6 * 1024 * 1024)
    response = client.post(
        URL,
        data={"csrf_token": csrf_token(), "fichier": (io.BytesIO(data), "membres.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    page = html(response)
    assert_accessible(page)
    assert page.find("h1").text() == "Fichier trop volumineux"
    assert "5 Mo au plus" in page.text()
    assert len(admin_api.kc.calls) == 0  # refused before reading it, and before asking Keycloak


def test_a_file_just_above_5_mb_gets_the_form_message(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    support.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    data = b"x" * (5 * 1024 * 1024 + 1)
    response = client.post(
        URL,
        data={"csrf_token": csrf_token(), "fichier": (io.BytesIO(data), "membres.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "ne doit pas dépasser 5 Mo" in html(response).text()


# --- a SIREN of another groupement ----------------------------------------------------------


def other_groupements(api: AdminApi, adherents: int = 1) -> None:
    """GET groups?briefRepresentation=true: the groupements and how many adherents each has."""
    groupements = [
        {"id": "g-groupement", "name": GROUPEMENT, "subGroupCount": 1},
        {"id": "g-y", "name": "GRP-Y", "subGroupCount": adherents},
        {"id": "g-coordonnateurs", "name": "coordonnateurs", "subGroupCount": 2},
    ]
    query = {"briefRepresentation": "true", "first": "0", "max": "1000"}
    api.kc.get(ADMIN_GROUPS_URL, json=groupements, match=[matchers.query_param_matcher(query)])


def adherent_of_y(api: AdminApi, siren: str) -> None:
    """gateway.adherent(siren): the search answers GRP-Y holding the SIREN."""
    group = {"id": f"g-{siren}", "name": siren, "path": f"/GRP-Y/{siren}", "attributes": {}}
    query = {"search": siren, "exact": "true", "briefRepresentation": "false"}
    query.update(first="0", max="100")
    found = [{"id": "g-y", "name": "GRP-Y", "path": "/GRP-Y", "subGroupCount": 1}]
    for url, answer in ((ADMIN_GROUPS_URL, found), (f"{ADMIN_GROUPS_URL}/g-y/children", [group])):
        api.kc.get(url, json=answer, match=[matchers.query_param_matcher(query)])


def test_a_siren_of_another_groupement_is_an_error_on_its_line(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    groupement_state(support, [{"email": "a@exemple.fr"}], [group_json(SIREN_A)])
    other_groupements(support)
    adherent_of_y(support, SIREN_Y)
    response = upload(
        client,
        csrf_token(),
        f"a@exemple.fr;Durand;Anne;;{SIREN_A};;1;collecte",
        f"a@exemple.fr;Durand;Anne;;{SIREN_Y};Société Y;1;technique",
    )
    assert response.status_code == 200
    page = html(response)
    row = page.by_id("rapport").find("tr", **{"data-ligne": "3"})
    assert row.attrs["class"] == "erreur"
    assert (
        f"Le SIREN {SIREN_Y} est déjà adhérent d’un autre groupement : contactez le support."
        in row.text()
    )
    assert "1 ligne(s) en erreur" in page.by_id("bilan").text()
    assert not page.find_all("form", id="confirmation")
    assert support.writes() == []


def groupement_of_a(api: AdminApi) -> None:
    """The token, and the groupement with its one adherent, SIREN_A."""
    api.token()
    api.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    api.kc.get(f"{ADMIN_GROUPS_URL}/g-groupement/children", json=[group_json(SIREN_A)])


def test_many_new_sirens_are_looked_for_by_listing_the_other_groupements(
    app: Flask, admin_api: AdminApi
) -> None:
    """Beyond SEARCHES_PER_PAGE new SIRENs per page of adherents to read, one listing of the
    other groupements' adherents replaces one search per SIREN."""
    sirens = {f"{n:08d}" + "0" for n in range(30)} | {SIREN_Y}
    groupement_of_a(admin_api)
    other_groupements(admin_api, adherents=2)
    query = {"briefRepresentation": "true", "first": "0", "max": "1000"}
    admin_api.kc.get(
        f"{ADMIN_GROUPS_URL}/g-y/children",
        json=[{"id": "g-1", "name": SIREN_Y}, {"id": "g-2", "name": "453500017"}],
        match=[matchers.query_param_matcher(query)],
    )
    with app.app_context():
        existing = get_gateway().import_state(GROUPEMENT, (), sirens | {SIREN_A})
    assert existing.elsewhere == {SIREN_Y: "GRP-Y"}
    assert set(existing.adherents) == {SIREN_A}


def test_the_extensions_read_tells_in_one_call_which_sirens_another_groupement_holds(
    app: Flask, admin_api: AdminApi
) -> None:
    """With the extension's adherents/by-siren read: one call for the file's new SIRENs, no
    listing of the groupements nor search per SIREN (none is registered); the groupement itself
    and the coordinators' markers are no other holders."""
    sirens = {f"{n:08d}" + "0" for n in range(30)} | {SIREN_Y}
    groupement_of_a(admin_api)
    marker = "000000000"
    admin_api.by_siren_read({SIREN_Y: "GRP-Y", marker: "coordonnateurs", "453500017": "GRP-Y"})
    with app.app_context():
        existing = get_gateway().import_state(GROUPEMENT, (), sirens | {SIREN_A, marker})
    assert existing.elsewhere == {SIREN_Y: "GRP-Y"}
    [asked] = admin_api.sent("POST", BY_SIREN_URL)
    assert set(asked) == sirens | {marker}  # not SIREN_A, an adherent of the groupement


def test_confirm_needs_csrf(client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn) -> None:
    sign_in_as(SUPPORT_USER)
    response = client.post(URL, data={"etape": "confirmer"})
    assert response.status_code == 400
    assert admin_api.writes() == []
