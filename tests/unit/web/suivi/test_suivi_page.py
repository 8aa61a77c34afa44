"""Suivi des activations, the follow-up page: counts, states and progress per lot, the Keycloak
reads it costs and when the lots are laid out again, the « not activated » filter, the link to
the import page, and which CGU acceptances count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import responses
from flask import url_for
from flask.testing import FlaskClient

from portal.web.suivi import views as suivi_views
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import CGU_VERSION, GROUPEMENT, SIREN_A, user_json
from tests.helpers.pages import get_page
from tests.helpers.personas import TECHNICIAN

from ._support import (
    ACTIVE,
    BASE,
    EXPIRED,
    INVITED,
    LAST_LOGIN,
    NEVER,
    NOT_ACTIVATED,
    PASSWORD_SET,
    dataset,
)

IMPORT = "imports.televerser"


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
