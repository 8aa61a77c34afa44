"""The support history names who really called the Admin API, from Keycloak's own record of each
admin event (``authDetails``), never from the ``derniereModification`` a writer puts in the user.

The attack: a coordinator, with his own Admin API token, updates a member of his groupement and
writes ``derniereModification`` as if support had made the change.
"""

from __future__ import annotations

import json
import uuid

from portal.domain import Change, Scope
from portal.gateway import KeycloakGateway
from portal.support_desk import SupportDesk
from tests.coordination import add_colleague, groupement
from tests.support_helpers import fresh_siren

SUPPORT = "sam.support@collecte.test"


def test_a_forged_derniere_modification_does_not_name_support(platform, gateway: KeycloakGateway):
    siren = fresh_siren()
    code = f"GRP-H{uuid.uuid4().hex[:6].upper()}"
    grp = groupement(platform, code, siren)
    colleague_id = add_colleague(platform.admin, code, siren)
    email = platform.admin.get_user(colleague_id)["email"]

    # The coordinator edits a member of his own groupement and forges the audit field.
    representation = grp.api.get_user(colleague_id)
    attributes = dict(representation.get("attributes") or {})
    forged = Change.now(SUPPORT, "modification faite par le support").to_json()
    attributes["derniereModification"] = [forged]
    attributes["telephoneFixe"] = ["+33299000042"]
    grp.api.update_user(colleague_id, {**representation, "attributes": attributes})
    stored = platform.admin.get_user(colleague_id)["attributes"]
    assert stored["derniereModification"] == [forged]  # Keycloak accepted the forged field

    desk = SupportDesk(gateway, SUPPORT, f"{platform.portal_url}/connexion")
    [latest, *_] = desk.history_of_person(email)
    assert latest.by == grp.coordinator_email
    assert SUPPORT not in latest.by and "support" not in latest.what

    # A portal write still names the person who used the portal.
    portal_user = "lea.support@collecte.test"
    SupportDesk(gateway, portal_user, f"{platform.portal_url}/connexion").revoke_collection(
        colleague_id, Scope(siren, "1")
    )
    [latest, *_] = desk.history_of_person(email)
    assert latest.by == portal_user
    assert latest.what == f"retrait de la fonction d'interlocuteur de collecte {siren}/1"


def test_a_platform_administrator_is_named_as_such(platform, gateway, create_person):
    person_id = create_person()
    email = platform.admin.get_user(person_id)["email"]
    forged = json.dumps({"par": SUPPORT, "le": "2026-11-30T10:00:00+00:00", "quoi": "rien"})
    representation = platform.admin.get_user(person_id)
    attributes = {**representation.get("attributes", {}), "derniereModification": [forged]}
    platform.admin.update_user(person_id, {**representation, "attributes": attributes})

    entries = SupportDesk(gateway, SUPPORT, platform.portal_url).history_of_person(email)

    assert entries and all(e.by.startswith("administrateur de la plateforme") for e in entries)
    assert all(SUPPORT not in e.by for e in entries)
