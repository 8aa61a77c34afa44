"""No lost updates, on the portal's side (portal.core.keycloak.revisions): a write Keycloak
refuses because the
record changed since it was read is redone on a new read, keeping the other writer's change; a
record that keeps changing gives a French page and nothing written; an undo puts back only what
we changed. Keycloak's side is proven against Keycloak (tests/integration/test_no_lost_updates)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import responses
from flask.testing import FlaskClient
from requests import PreparedRequest
from werkzeug.test import TestResponse

from portal.core.keycloak import revisions
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_A, SCOPE_B, SIREN_A, group_json
from tests.helpers.pages import html
from tests.helpers.personas import TECHNICIAN
from tests.helpers.settings import ADMIN_USERS_URL, GROUP_WRITES_URL

Post = Callable[..., TestResponse]
EDIT_URL = f"/espace/{SIREN_A}/1/contacts/{TECHNICIAN['id']}/modifier"
EDIT = {
    "nom": "Technicien-Martin",
    "prenom": "Jean",
    "telephone_fixe": "",
    "telephone_mobile": "0692 12 34 56",
    "fonctions": "technique",
}
STALE = json.dumps({"field": "revision", "errorMessage": "fiche modifiée par ailleurs"})


def technician(revision: str) -> dict[str, Any]:
    person = json.loads(json.dumps(TECHNICIAN))
    person["attributes"]["revision"] = [revision]
    return person


def someone_else_writes_first(member: AdminApi, times: int) -> list[dict[str, Any]]:
    """The technician's PUT: the first `times` ones find that support just made them billing
    contact of SCOPE_B too (a new revision each time) and are refused as Keycloak does; the next
    one is accepted if it sends back the revision it read. Returns the bodies received."""
    received: list[dict[str, Any]] = []
    person_id = TECHNICIAN["id"]

    def put(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = json.loads(str(request.body))
        received.append(body)
        stored = member.people[person_id]
        if body["attributes"].get("revision") != stored["attributes"]["revision"]:
            return 400, {}, STALE
        if len(received) <= times:
            stored["attributes"]["facturation"] = [SCOPE_B]
            stored["attributes"]["revision"] = [f"r{len(received) + 1}"]
            return 400, {}, STALE
        member.people[person_id] = {**body, "id": person_id}
        return 204, {}, ""

    member.kc.add_callback(responses.PUT, f"{ADMIN_USERS_URL}/{person_id}", callback=put)
    return received


def test_an_edit_refused_as_stale_is_redone_on_a_new_read(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    member.person(technician("r1"))
    received = someone_else_writes_first(member, times=1)

    response = post(EDIT_URL, EDIT)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert [body["attributes"]["revision"] for body in received] == [["r1"], ["r2"]]
    stored = member.people[TECHNICIAN["id"]]
    assert stored["lastName"] == "Technicien-Martin"  # our edit
    assert stored["attributes"]["facturation"] == [SCOPE_B]  # support's, kept
    assert stored["attributes"]["technique"] == [SCOPE_A]


def test_a_record_that_keeps_changing_gives_a_french_page_and_nothing_written(
    client: FlaskClient, member: AdminApi, post: Post, monkeypatch: Any
) -> None:
    monkeypatch.setattr(revisions, "back_off", lambda attempt: None)
    member.person(technician("r1"))
    received = someone_else_writes_first(member, times=revisions.WRITE_ATTEMPTS)

    response = post(EDIT_URL, EDIT)

    assert response.status_code == 409
    assert "Modification simultanée" in html(response).text()
    assert "Rien n’a été enregistré" in html(response).text()
    assert len(received) == revisions.WRITE_ATTEMPTS
    assert member.people[TECHNICIAN["id"]]["lastName"] != "Technicien-Martin"


def test_a_principal_claimed_by_someone_else_meanwhile_is_not_replaced(
    app: Any, admin_api: AdminApi
) -> None:
    """The conditional group write answers 409: the portal reads again, finds a principal and
    leaves it."""
    from portal.core.domain import Scope
    from portal.web.gateway import get_gateway

    admin_api.token()
    group = group_json(SIREN_A)
    admin_api.group(group)
    admin_api.adherent(SIREN_A, group)
    calls = []

    def conflict(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        calls.append(json.loads(str(request.body)))
        admin_api.groups[group["id"]]["attributes"]["principal.1"] = ["quelqu-un-d-autre"]
        return 409, {}, json.dumps({"field": "revision", "errorMessage": "modifié"})

    admin_api.kc.remove(responses.PUT, f"{GROUP_WRITES_URL}/{group['id']}")
    admin_api.kc.add_callback(responses.PUT, f"{GROUP_WRITES_URL}/{group['id']}", conflict)
    with app.app_context():
        assert get_gateway().ensure_principal(Scope(SIREN_A, "1"), "moi") is False
    assert len(calls) == 1
    assert admin_api.groups[group["id"]]["attributes"]["principal.1"] == ["quelqu-un-d-autre"]


def test_an_undo_puts_back_only_what_we_changed_and_nobody_changed_since() -> None:
    before = {"firstName": "Lou", "attributes": {"collecte": [], "technique": ["A/1"]}}
    written = {
        "firstName": "Lou",
        "attributes": {"collecte": ["A/1"], "technique": ["A/1"], "invitationEnvoyeeLe": ["1"]},
    }
    now = {
        "firstName": "Louise",  # someone else's change
        "attributes": {
            "collecte": ["A/1"],
            "technique": ["A/1", "B/1"],  # someone else's change
            "invitationEnvoyeeLe": ["1"],
            "revision": ["r9"],
        },
    }
    revisions.undo(now, before, written)
    assert now == {
        "firstName": "Louise",
        "attributes": {"technique": ["A/1", "B/1"], "revision": ["r9"]},
    }


def test_an_undo_keeps_a_value_someone_else_wrote_over_ours() -> None:
    before = {"attributes": {"collecte": []}}
    written = {"attributes": {"collecte": ["A/1"]}}
    now = {"attributes": {"collecte": ["A/1", "A/2"]}}
    revisions.undo(now, before, written)
    assert now == {"attributes": {"collecte": ["A/1", "A/2"]}}


def test_only_a_400_on_the_revision_field_is_a_stale_write() -> None:
    """Any other refusal is not redone on a new read: it is the error it says (mutmut found that
    `return True` for a non-400 answer survived every test)."""
    on_revision = json.dumps({"errors": [{"field": revisions.ATTRIBUTE}]}).encode()
    on_email = json.dumps({"errors": [{"field": "email"}]}).encode()

    def error(code: int, body: bytes) -> revisions.KeycloakError:
        return revisions.KeycloakError("refus", response_code=code, response_body=body)

    assert revisions.stale_user_write(error(400, on_revision))
    assert not revisions.stale_user_write(error(400, on_email))
    assert not revisions.stale_user_write(error(409, on_revision))
    assert not revisions.stale_user_write(error(500, on_revision))
