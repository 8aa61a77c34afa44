"""The authority rule and a member's remit (portal.core.authority), in the pure functions and
through
the member space's pages (Keycloak answers mocked as Keycloak 26 gives them)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.core.authority import (
    KNOWN_ELSEWHERE,
    Standing,
    authorised_scopes,
    refused_scopes,
    within_remit,
)
from portal.core.domain import Adherent, Function, Person, Scope
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_A, SCOPE_B, SIREN_A, SIREN_B, group_json, user_json
from tests.helpers.pages import assert_field_error, flashes, get_page, html
from tests.helpers.personas import MEMBER, TECHNICIAN
from tests.helpers.settings import ADMIN_USERS_URL

Post = Callable[..., TestResponse]
SignedIn = Callable[[dict[str, Any]], AdminApi]
PROTECTED = "Cette adresse ne peut pas être enregistrée pour ce contact ; contactez le support."
SCOPE_PAGE = f"/espace/{SIREN_A}/1/"
#: The principal of another adherent's lot (SIREN_B/1), with their own names and phones.
PRINCIPAL_B = user_json(
    "p0000000-0000-4000-8000-00000000000p",
    "paula.principale@syndicat-demoville.fr",
    "Paula",
    "Principale",
    collecte=[SCOPE_B],
    telephoneMobile=["+33612340000"],
)
STAFF = user_json("s1", "sacha.support@collecte.fr", "Sacha", "Support")
CONTACT = {
    "nom": "Usurpe",
    "prenom": "Nom",
    "telephone_fixe": "02 99 11 11 11",
    "fonctions": "technique",
}


def adherent(siren: str, lots: tuple[str, ...] = ("1", "2"), **principals: str) -> Adherent:
    return Adherent(f"g-{siren}", siren, "x", "GRP", lots, principals)


def person(**functions: list[str]) -> Person:
    return Person.from_representation(user_json("p", "p@x.fr", "P", "X", **functions))


# --- the rule ----------------------------------------------------------------------------------


def test_a_function_counts_only_with_membership_and_a_lot_of_the_adherent() -> None:
    someone = person(collecte=[f"{SIREN_A}/1", f"{SIREN_A}/3", f"{SIREN_B}/1"])
    memberships = {SIREN_A: adherent(SIREN_A)}
    assert authorised_scopes(someone, Function.COLLECTE, memberships) == {Scope(SIREN_A, "1")}
    assert refused_scopes(someone, Function.COLLECTE, memberships) == [
        (Scope(SIREN_A, "3"), f"le lot 3 n’est pas un lot de l’adhérent {SIREN_A}"),
        (Scope(SIREN_B, "1"), f"n’est pas membre du groupe de l’adhérent {SIREN_B}"),
    ]
    assert authorised_scopes(someone, Function.COLLECTE, {}) == frozenset()


def test_user_groups_become_adherents_and_markers_are_left_out() -> None:
    from portal.core.keycloak.gateway import adherent_groups

    groups = [
        group_json(SIREN_A, lot_1="p"),
        {"id": "m", "name": "GRP-DEMO", "path": "/coordonnateurs/GRP-DEMO"},
        {"id": "t", "name": "GRP-DEMO", "path": "/GRP-DEMO"},
    ]
    [found] = adherent_groups(groups).values()
    assert (found.siren, found.groupement, found.lots) == (SIREN_A, "GRP-DEMO", ("1", "2"))
    assert found.principal_id("1") == "p"


def test_remit() -> None:
    mine = {Scope(SIREN_A, "1")}
    local = person(technique=[f"{SIREN_A}/1"])
    assert within_remit(Standing(local, False, frozenset()), mine)
    assert not within_remit(Standing(local, True, frozenset()), mine)  # staff
    assert not within_remit(Standing(local, False, frozenset({Scope(SIREN_B, "1")})), mine)
    elsewhere = person(technique=[f"{SIREN_A}/1", f"{SIREN_A}/2"])
    assert not within_remit(Standing(elsewhere, False, frozenset()), mine)
    assert within_remit(Standing(elsewhere, False, frozenset()), (), unrestricted=True)
    assert not within_remit(Standing(elsewhere, True, frozenset()), (), unrestricted=True)


# --- attack 1, portal side: a `collecte` value alone gives nothing -----------------------------


def not_found(response: TestResponse) -> None:
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_a_collecte_value_without_membership_gives_no_space(
    client: FlaskClient, member: AdminApi
) -> None:
    member.memberships[MEMBER["id"]] = set()
    not_found(client.get(SCOPE_PAGE))
    page = get_page(client, "/espace/")
    assert not page.find_all("a", href=SCOPE_PAGE)


def test_a_lot_that_is_not_the_adherents_gives_no_space(
    client: FlaskClient, signed_in: SignedIn
) -> None:
    api = signed_in({**MEMBER, "attributes": {"collecte": [f"{SIREN_A}/3"]}})
    not_found(client.get(f"/espace/{SIREN_A}/3/"))
    assert api.writes() == []


def test_lot_isolation(client: FlaskClient, member: AdminApi, post: Post) -> None:
    """MEMBER is a collection contact of lot 1 only: lot 2 of the same SIREN is out of reach."""
    for url in (f"/espace/{SIREN_A}/2/", f"/espace/{SIREN_A}/2/contacts/nouveau"):
        not_found(client.get(url))
    not_found(post(f"/espace/{SIREN_A}/2/contacts/nouveau", {**CONTACT, "email": "x@y.fr"}))
    assert member.writes() == []


def test_contacts_are_listed_under_the_rule(client: FlaskClient, member: AdminApi) -> None:
    """A person of the group whose value names another lot, or a lot the adherent does not
    have, is nobody's contact here; the page reads the group's members once."""
    other_lot = user_json("o2", "lot2@demoville.fr", "Lot", "Deux", technique=[f"{SIREN_A}/2"])
    member.adherent(SIREN_A, group_json(SIREN_A, lot_1=MEMBER["id"]))
    member.scope_contacts(SCOPE_A, collecte=[MEMBER], technique=[TECHNICIAN, other_lot])
    page = get_page(client, SCOPE_PAGE)
    assert page.by_id("techniques").find_all("tr", data_personne=TECHNICIAN["id"])
    assert not page.find_all(data_personne="o2")


# --- attack 2: an existing person is never taken over -----------------------------------------


def test_a_known_person_outside_the_remit_is_linked_not_rewritten(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    member.adherent(SIREN_A)
    member.email_search(PRINCIPAL_B["email"], [PRINCIPAL_B])
    member.person(PRINCIPAL_B)
    member.accept_update(PRINCIPAL_B["id"])
    member.accept_join(PRINCIPAL_B["id"], SIREN_A)

    response = post(f"{SCOPE_PAGE}contacts/nouveau", {**CONTACT, "email": PRINCIPAL_B["email"]})

    # The same answer as for a new address.
    assert response.status_code == 302 and response.location == SCOPE_PAGE
    assert flashes(client) == [("info", "Contact enregistré.")]
    after = member.people[PRINCIPAL_B["id"]]
    assert (after["firstName"], after["lastName"]) == ("Paula", "Principale")
    assert after["attributes"]["telephoneMobile"] == ["+33612340000"]
    assert "telephoneFixe" not in after["attributes"]
    assert after["attributes"]["technique"] == [SCOPE_A]


def linked_principal() -> dict[str, Any]:
    return {
        **PRINCIPAL_B,
        "attributes": {**PRINCIPAL_B["attributes"], "technique": [SCOPE_A]},
    }


def test_a_contact_known_elsewhere_is_shown_by_email_only(
    client: FlaskClient, member: AdminApi
) -> None:
    linked = linked_principal()
    member.adherent(SIREN_A, group_json(SIREN_A, lot_1=MEMBER["id"]))
    member.scope_contacts(SCOPE_A, collecte=[MEMBER], technique=[linked, TECHNICIAN])
    page = get_page(client, SCOPE_PAGE)
    row = page.by_id("techniques").find("tr", data_personne=linked["id"])
    text = row.text()
    assert PRINCIPAL_B["email"] in text and KNOWN_ELSEWHERE in text
    assert "Paula" not in text and "Principale" not in text and "06 12 34" not in text
    assert not row.find_all("a", class_="modifier")
    assert row.find_all("form")  # « Retirer » stays
    own = page.by_id("techniques").find("tr", data_personne=TECHNICIAN["id"])
    assert "Jean Technicien" in own.text() and own.find_all("a", class_="modifier")


def test_a_forged_edit_of_a_contact_known_elsewhere_writes_nothing(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    member.person(linked_principal())
    url = f"{SCOPE_PAGE}contacts/{PRINCIPAL_B['id']}/modifier"
    not_found(client.get(url))
    not_found(post(url, {**CONTACT, "fonctions": ["technique", "facturation"]}))
    assert member.writes() == []
    assert member.people[PRINCIPAL_B["id"]]["firstName"] == "Paula"


def test_the_request_form_is_prefilled_with_the_address_only(
    client: FlaskClient, member: AdminApi
) -> None:
    member.person(linked_principal())
    member.adherent(SIREN_A)
    page = get_page(
        client, f"/espace/demandes/nouvelle?perimetre={SCOPE_A}&personne={PRINCIPAL_B['id']}"
    )
    assert page.find("input", name="email").attrs["value"] == PRINCIPAL_B["email"]
    assert page.find("input", name="nom").attrs.get("value", "") == ""


def test_retirer_takes_the_person_out_of_the_adherent_group(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    linked = linked_principal()
    member.person(linked)
    member.accept_update(linked["id"])
    member.accept_leave(linked["id"], SIREN_A)
    response = post(f"{SCOPE_PAGE}contacts/{linked['id']}/retirer")
    assert response.location == SCOPE_PAGE
    assert member.memberships[linked["id"]] == {SIREN_B}
    assert member.people[linked["id"]]["attributes"].get("technique", []) == []


def test_a_principal_of_the_siren_stays_in_its_group(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    """Principal of lot 2 of the SIREN, technical contact of lot 1: « Retirer » on lot 1 keeps
    them in the adherent's group."""
    principal = user_json("p2", "p2@demoville.fr", "Pierre", "Deux", technique=[SCOPE_A])
    member.groups[f"g-{SIREN_A}"] = group_json(SIREN_A, lot_2="p2")
    member.person(principal)
    member.accept_update("p2")
    response = post(f"{SCOPE_PAGE}contacts/p2/retirer")
    assert response.location == SCOPE_PAGE
    assert member.memberships["p2"] == {SIREN_A}
    assert [w for w in member.writes() if "DELETE" in w] == []


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (f"{SCOPE_PAGE}contacts/nouveau", CONTACT),
        ("/espace/demandes/nouvelle", {**CONTACT, "perimetre": SCOPE_A}),
    ],
)
def test_a_staff_address_is_refused_and_nothing_is_written(
    client: FlaskClient, member: AdminApi, post: Post, url: str, data: dict[str, str]
) -> None:
    member.adherent(SIREN_A)
    member.email_search(STAFF["email"], [STAFF])
    member.roles(STAFF["id"], "support", "equipe-plateforme")
    response = post(url, {**data, "email": STAFF["email"]})
    page = assert_field_error(response, "email", PROTECTED)
    assert "Sacha" not in page.text() and "équipe" not in page.find("main").text()
    assert member.writes() == []


def test_a_request_for_a_known_person_keeps_their_identity_and_is_listed_by_email(
    client: FlaskClient, member: AdminApi, post: Post, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("portal.core.notify.Mailer.collection_request", lambda *a, **k: None)
    member.adherent(SIREN_A)
    member.email_search(PRINCIPAL_B["email"], [PRINCIPAL_B])
    member.person(PRINCIPAL_B)
    member.accept_update(PRINCIPAL_B["id"])
    member.accept_join(PRINCIPAL_B["id"], SIREN_A)
    response = post(
        "/espace/demandes/nouvelle",
        {**CONTACT, "email": PRINCIPAL_B["email"], "perimetre": SCOPE_A},
    )
    assert response.status_code == 302
    after = member.people[PRINCIPAL_B["id"]]
    assert (after["firstName"], after["lastName"]) == ("Paula", "Principale")
    [request] = after["attributes"]["demandesCollecte"]
    assert json.loads(request)["perimetre"] == SCOPE_A

    member.adherent(SIREN_A, group_json(SIREN_A, lot_1=MEMBER["id"]))
    member.scope_contacts(SCOPE_A, collecte=[MEMBER], demandeCollecteSur=[after])
    row = html(client.get(SCOPE_PAGE)).by_id("demandes").find("tbody").find("tr")
    assert KNOWN_ELSEWHERE in row.text() and "Paula" not in row.text()
    assert ADMIN_USERS_URL  # the fake served every read
