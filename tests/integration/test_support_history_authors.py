"""The support history names who really called the Admin API, from Keycloak's own record of each
admin event (``authDetails``), never from the ``derniereModification`` a writer puts in the user.

The attack: a coordinator, with his own Admin API token, updates a member of his groupement whose
``derniereModification`` names support; Keycloak refuses a changed record, so the field keeps
naming support while the change is the coordinator's.
"""

from __future__ import annotations

import json
import uuid

import pytest
from keycloak.exceptions import KeycloakError

from portal.core.domain import Change, Scope
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.support_desk import SupportDesk
from tests.helpers.coordination import add_colleague, groupement
from tests.helpers.realm_data import fresh_siren

SUPPORT = "sam.support@collecte.test"


def test_a_coordinators_change_is_not_credited_to_support(platform, gateway: KeycloakGateway):
    """Support's portal write leaves `derniereModification` naming support; the coordinator's
    later edit re-sends it unchanged (Keycloak keeps unchanged portal records, and refuses a forged
    one): the history must name the coordinator for his change, not the field's author."""
    siren = fresh_siren()
    code = f"GRP-H{uuid.uuid4().hex[:6].upper()}"
    grp = groupement(platform, code, siren)
    colleague_id = add_colleague(platform.admin, code, siren)
    email = platform.admin.get_user(colleague_id)["email"]
    desk = SupportDesk(gateway, SUPPORT, f"{platform.portal_url}/connexion")
    desk.revoke_collection(colleague_id, Scope(siren, "1"))
    [latest, *_] = desk.history_of_person(email)
    assert latest.by == SUPPORT

    # A forged record is refused by Keycloak itself (PortalRecordValidator)…
    representation = grp.api.get_user(colleague_id)
    attributes = dict(representation.get("attributes") or {})
    forged = Change.now(SUPPORT, "modification faite par le support").to_json()
    with pytest.raises(KeycloakError) as refusal:
        grp.api.update_user(
            colleague_id,
            {**representation, "attributes": {**attributes, "derniereModification": [forged]}},
        )
    assert refusal.value.response_code == 400
    # …but the one support's write left is re-sent as it is with the coordinator's own change.
    attributes["telephoneFixe"] = ["+33299000042"]
    grp.api.update_user(colleague_id, {**representation, "attributes": attributes})
    stored = platform.admin.get_user(colleague_id)["attributes"]
    assert json.loads(stored["derniereModification"][0])["par"] == SUPPORT

    [latest, *_] = desk.history_of_person(email)
    assert latest.by == grp.coordinator_email
    assert SUPPORT not in latest.by and "support" not in latest.what

    # A portal write still names the person who used the portal.
    portal_user = "lea.support@collecte.test"
    person = SupportDesk(gateway, portal_user, platform.portal_url).check_email_change(colleague_id)
    new_email = f"nouvelle-{uuid.uuid4().hex[:8]}@exemple-adherent.fr"
    SupportDesk(gateway, portal_user, platform.portal_url).change_email(person, new_email)
    [latest, *_] = desk.history_of_person(new_email)
    assert latest.by == portal_user


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
