"""The bulk import's writes go several at a time (portal.core.keycloak.bulk_writer): adherent
groups, partial-import calls and principals, ``IMPORT_WRITERS`` calls at once, and the outcome
and the progress are counted as when they went one by one."""

from __future__ import annotations

import json
import threading
from typing import Any

import responses
from flask import Flask
from requests import PreparedRequest

from portal.core.domain import Change, Function, Scope
from portal.core.keycloak.bulk_writer import (
    IMPORT_CHUNK,
    IMPORT_WRITERS,
    naming_nobody_in_common,
)
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.bulk import NewAdherent, NewPerson, Plan
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT
from tests.helpers.settings import ADMIN_GROUPS_URL, ADMIN_REALM_URL

SIRENS = ("213100019", "552081317")
Answer = tuple[int, dict[str, str], str]


def _person(index: int, siren: str) -> NewPerson:
    return NewPerson(
        email=f"personne{index}@exemple.fr",
        first_name="Prénom",
        last_name="Nom",
        phone_fixe=None,
        phone_mobile=None,
        functions={Function.COLLECTE: [Scope(siren, "1")]},
        sirens=[siren],
        lines=[index + 2],
    )


def test_groups_partial_imports_and_principals_go_several_at_once(
    app: Flask, admin_api: AdminApi
) -> None:
    """Each kind of write waits on a barrier of ``IMPORT_WRITERS`` callers: made one by one,
    the first caller would wait alone until the barrier's timeout and the import would fail."""
    admin_api.token()
    kc = admin_api.kc
    kc.get(f"{ADMIN_REALM_URL}/authentication/required-actions", json=[])
    group = {"id": "g-groupement", "name": GROUPEMENT}
    kc.get(f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}", json=group)
    adherents = [
        {"id": f"g-{siren}", "name": siren, "attributes": {"lots": ["1"], "revision": ["r1"]}}
        for siren in SIRENS
    ]
    kc.get(f"{ADMIN_GROUPS_URL}/g-groupement/children", json=adherents)
    barriers = {kind: threading.Barrier(IMPORT_WRITERS, timeout=5) for kind in ("g", "i", "p")}
    imported: list[list[str]] = []

    def create_group(request: PreparedRequest) -> Answer:
        barriers["g"].wait()
        return 201, {}, ""

    def partial_import(request: PreparedRequest) -> Answer:
        users = json.loads(request.body or "{}")["users"]
        barriers["i"].wait()
        imported.append([user["email"] for user in users])
        results = [
            {
                "resourceType": "USER",
                "action": "ADDED",
                "resourceName": u["email"],
                "id": u["email"],
            }
            for u in users
        ]
        return 200, {}, json.dumps({"results": results})

    principals: dict[str, dict[str, Any]] = {}

    def claim(request: PreparedRequest) -> Answer:
        barriers["p"].wait()
        principals[str(request.url).rsplit("/", 1)[1]] = json.loads(request.body or "{}")
        return 204, {}, ""

    kc.add_callback(responses.POST, f"{ADMIN_GROUPS_URL}/g-groupement/children", create_group)
    kc.add_callback(responses.POST, f"{ADMIN_REALM_URL}/partialImport", partial_import)
    for siren in SIRENS:
        kc.add_callback(
            responses.PUT, f"{ADMIN_REALM_URL}/collecte-revisions/groups/g-{siren}", claim
        )
    people = [_person(index, SIRENS[index % 2]) for index in range(IMPORT_WRITERS * IMPORT_CHUNK)]
    plan = Plan(
        GROUPEMENT,
        adherents=[NewAdherent(siren, f"Commune {siren}", ("1",)) for siren in SIRENS],
        people=people,
        principals={
            Scope(siren, "1"): f"personne{index}@exemple.fr"
            for index, siren in [(0, SIRENS[0]), (1, SIRENS[1])]
        },
    )
    ticks: list[int] = []

    outcome = KeycloakGateway.from_config(app.config).apply_import(
        plan,
        "https://portail/connexion",
        Change.now("support@exemple.fr", "import"),
        invite=False,
        progress=ticks.append,
    )

    assert not outcome.failures
    assert (outcome.adherents_created, outcome.created, outcome.principals) == (2, len(people), 2)
    assert sorted(map(len, imported)) == [IMPORT_CHUNK] * IMPORT_WRITERS
    assert ticks == [1, 1] + [IMPORT_CHUNK] * IMPORT_WRITERS
    assert {group: body["attributes"]["principal.1"] for group, body in principals.items()} == {
        f"g-{SIRENS[0]}": ["personne0@exemple.fr"],
        f"g-{SIRENS[1]}": ["personne1@exemple.fr"],
    }


def test_principals_naming_one_person_are_written_one_after_the_other() -> None:
    """SIRENs whose principals share a person, directly or through another SIREN, form one set
    (written in turn); the others are sets of their own (written beside it)."""
    principals = {
        "A": {"1": "p"},
        "B": {"1": "q"},
        "C": {"1": "p", "2": "r"},
        "D": {"1": "r"},
        "E": {"1": "s"},
    }
    assert naming_nobody_in_common(principals) == [["A", "C", "D"], ["B"], ["E"]]
    linked = {"A": {"1": "p"}, "B": {"1": "q"}, "C": {"1": "p", "2": "q"}, "D": {"1": "p"}}
    assert naming_nobody_in_common(linked) == [["A", "B", "C", "D"]]


def test_new_adherents_principals_start_from_keycloaks_answers_to_their_creation(
    app: Flask, admin_api: AdminApi
) -> None:
    """A plan that concerns only adherents it creates reads no listing of the groupement (none
    is registered here: reading it would fail): each principal is written from the group as
    Keycloak answered its creation, that group's attributes kept."""
    admin_api.token()
    kc = admin_api.kc
    kc.get(f"{ADMIN_REALM_URL}/authentication/required-actions", json=[])
    kc.get(f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}", json={"id": "g-groupement"})

    def create_group(request: PreparedRequest) -> Answer:
        sent = json.loads(request.body or "{}")
        return 201, {}, json.dumps({**sent, "id": f"g-{sent['name']}", "subGroupCount": 0})

    def partial_import(request: PreparedRequest) -> Answer:
        users = json.loads(request.body or "{}")["users"]
        added = [
            {"resourceType": "USER", "action": "ADDED", "resourceName": u["email"]} for u in users
        ]
        return (
            200,
            {},
            json.dumps({"results": [{**r, "id": f"id-{i}"} for i, r in enumerate(added)]}),
        )

    written: dict[str, dict[str, Any]] = {}

    def claim(request: PreparedRequest) -> Answer:
        written[str(request.url).rsplit("/", 1)[1]] = json.loads(request.body or "{}")
        return 204, {}, ""

    kc.add_callback(responses.POST, f"{ADMIN_GROUPS_URL}/g-groupement/children", create_group)
    kc.add_callback(responses.POST, f"{ADMIN_REALM_URL}/partialImport", partial_import)
    kc.add_callback(
        responses.PUT, f"{ADMIN_REALM_URL}/collecte-revisions/groups/g-{SIRENS[0]}", claim
    )
    plan = Plan(
        GROUPEMENT,
        adherents=[NewAdherent(SIRENS[0], "Commune", ("1", "2"))],
        people=[_person(0, SIRENS[0])],
        principals={Scope(SIRENS[0], "1"): "personne0@exemple.fr"},
    )

    outcome = KeycloakGateway.from_config(app.config).apply_import(
        plan, "https://portail/connexion", Change.now("support@exemple.fr", "import"), invite=False
    )

    assert not outcome.failures and outcome.principals == 1
    attributes = written[f"g-{SIRENS[0]}"]["attributes"]
    assert attributes["principal.1"] == ["id-0"]
    assert attributes["lots"] == ["1", "2"]  # the created group's attributes, not a blank slate
