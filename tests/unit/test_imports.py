"""Import page `/coordination/<groupement>/import`: access, dry run report, confirmation and
application, against the Admin API as Keycloak answers it (strict mocks)."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any

from flask.testing import FlaskClient
from responses import matchers
from werkzeug.test import TestResponse

from .conftest import (
    ADMIN_REALM_URL,
    ADMIN_USERS_URL,
    GROUPEMENT,
    SIREN_A,
    SUPPORT_USER,
    TECHNICIAN,
    AdminApi,
    group_json,
    html,
    user_json,
)

Post = Callable[..., TestResponse]
SignIn = Callable[[Mapping[str, Any]], None]
URL = f"/coordination/{GROUPEMENT}/import"
HEADER = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"
OTHER_COORDINATOR = user_json(
    "c0000000-0000-4000-8000-0000000000cc", "paul.nord@groupement-nord.fr", "Paul", "Nord"
)
NEW_ID = "n0000000-0000-4000-8000-00000000000n"


def staff_groups(api: AdminApi, person_id: str, *codes: str) -> None:
    groups = [{"id": f"m-{c}", "name": c, "path": f"/coordonnateurs/{c}"} for c in codes]
    query = {"briefRepresentation": "True", "first": "0", "max": "100"}
    api.kc.get(
        f"{ADMIN_USERS_URL}/{person_id}/groups",
        json=groups,
        match=[matchers.query_param_matcher(query)],
    )


def upload(client: FlaskClient, csrf: str, *lines: str, name: str = "membres.csv") -> TestResponse:
    data = ("\n".join([HEADER, *lines]) + "\n").encode()
    return client.post(
        URL,
        data={"csrf_token": csrf, "fichier": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def groupement_state(api: AdminApi, people: list[dict[str, Any]], groups: list[Any]) -> None:
    """The groupement, its adherents, the realm's user count and one search per e-mail."""
    api.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    api.kc.get(f"{ADMIN_REALM_URL}/groups/g-groupement/children", json=groups)
    api.kc.get(f"{ADMIN_USERS_URL}/count", json=3)
    for person in people:
        query = {"email": person["email"], "exact": "true", "first": "0", "max": "2"}
        api.kc.get(
            ADMIN_USERS_URL,
            json=[person] if "id" in person else [],
            match=[matchers.query_param_matcher(query)],
        )


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


def test_dry_run_then_confirm_applies_and_counts(
    client: FlaskClient, support: AdminApi, csrf_token: Callable[[], str]
) -> None:
    new = {"email": "nouvelle@exemple.fr"}
    groupement_state(support, [new], [group_json(SIREN_A)])
    line = f"nouvelle@exemple.fr;Durand;Anne;06 12 34 56 78;{SIREN_A};;1;collecte"
    page = html(upload(client, csrf_token(), line))
    assert "Aucune erreur" in page.by_id("bilan").text()
    assert page.find_all("form", id="confirmation")
    assert support.writes() == []

    # confirmation: the portal's account may not use the partial import → one creation
    support.kc.get(
        f"{ADMIN_REALM_URL}/authentication/required-actions",
        json=[
            {"alias": "TERMS_AND_CONDITIONS", "enabled": True, "defaultAction": True},
            {"alias": "UPDATE_PASSWORD", "enabled": True, "defaultAction": False},
        ],
    )
    support.kc.post(f"{ADMIN_REALM_URL}/partialImport", status=403, json={"error": "forbidden"})
    support.accept_create(NEW_ID)
    support.group(group_json(SIREN_A))
    support.realm()
    support.accept_update(NEW_ID)
    support.accept_invitation(NEW_ID)
    response = client.post(
        URL,
        data={"confirmation-csrf_token": csrf_token(), "etape": "confirmer"},
    )
    assert response.status_code == 200, response.text
    counters = {
        li.attrs["data-compteur"]: li.text()
        for li in html(response).find_all("li")
        if "data-compteur" in li.attrs
    }
    assert counters["crees"].endswith(": 1")
    assert counters["invitations"].endswith(": 1")
    (created,) = support.sent("POST")
    assert created["email"] == "nouvelle@exemple.fr"
    assert created["requiredActions"] == ["TERMS_AND_CONDITIONS"]
    assert created["groups"] == [f"/{GROUPEMENT}/{SIREN_A}"]
    assert created["attributes"]["collecte"] == [f"{SIREN_A}/1"]
    assert created["attributes"]["telephoneMobile"] == ["+33612345678"]
    assert support.groups[f"g-{SIREN_A}"]["attributes"]["principal.1"] == [NEW_ID]
    # the kept file was used once: confirming again finds nothing
    again = client.post(URL, data={"confirmation-csrf_token": csrf_token(), "etape": "confirmer"})
    assert again.status_code == 409


def test_confirm_needs_csrf(client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn) -> None:
    sign_in_as(SUPPORT_USER)
    response = client.post(URL, data={"etape": "confirmer"})
    assert response.status_code == 400
    assert admin_api.writes() == []
