"""What a coordinator may write in a person's functions and in the portal's records, refused by
Keycloak itself (user-profile validators of keycloak/providers: FunctionsInOwnGroupementValidator,
PortalRecordValidator), tried with a real coordinator's Admin API token.

- Attack 1: a coordinator writes a function (`collecte`, `technique`, `facturation`) for a
  SIREN of another groupement, or a lot the adherent does not have, on a person of their own
  groupement, by creation, update or partial import.
- The portal's own records (requests, invitation record, audit line) cannot be forged.
- A former coordinator (role removed, left in the marker group) grants no function.

Callers with manage-users (the portal's service account, the provisioning) are not restricted.
Attack 3, the e-mail address: test_coordinator_email_writes.py.
"""

from __future__ import annotations

import json
import uuid

import pytest
from keycloak.exceptions import KeycloakError

from tests.helpers.coordination import groupement, new_email, portal_admin
from tests.helpers.coordinator_writes import colleague as colleague
from tests.helpers.coordinator_writes import known_in_sud_too, person_in, refused
from tests.helpers.coordinator_writes import nord as nord
from tests.helpers.coordinator_writes import sud as sud
from tests.helpers.coordinator_writes import world as world
from tests.helpers.realm_data import fresh_siren

# `name as name`: the helper's pytest fixtures, requested by name by the tests below (an
# explicit re-export, not an unused import)

pytestmark = pytest.mark.keycloak

FUNCTIONS = ("collecte", "technique", "facturation")
NOT_IN_GROUPEMENT = "n’est pas un adhérent de votre groupement avec ce lot"
ANOTHER_GROUPEMENTS = "relève d’un autre groupement"
PORTAL_ONLY = "Information tenue par le portail de la plateforme"


# --- attack 1: functions only inside the coordinator's groupement --------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_coordinator_cannot_create_someone_with_a_function_of_another_groupement(
    platform, world, nord, function
):
    """The attack as found: a person of his own adherent, his own mailbox, another
    groupement's SIREN in the function."""
    mailbox = new_email("boite-du-coordonnateur")
    representation = person_in(world, (nord.code, world.siren_nord), email=mailbox)
    representation["attributes"] = {function: [f"{world.siren_sud}/1"]}
    refused(lambda: nord.api.create_user(representation), function, NOT_IN_GROUPEMENT)
    assert platform.admin.get_users({"email": mailbox, "exact": True}) == []


@pytest.mark.parametrize(
    "value",
    ["sud/1", "nord/2", "inconnu/1"],
    ids=["siren-of-another-groupement", "lot-the-adherent-lacks", "siren-of-no-adherent"],
)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_coordinator_cannot_add_a_function_outside_their_groupement_to_a_member(
    platform, world, nord, colleague, function, value
):
    siren = {"sud": world.siren_sud, "nord": world.siren_nord, "inconnu": fresh_siren()}
    scope = f"{siren[value.split('/')[0]]}/{value.split('/')[1]}"
    before = platform.admin.get_user(colleague)["attributes"]
    person = nord.api.get_user(colleague)
    attributes = {
        **person["attributes"],
        function: [*person["attributes"].get(function, []), scope],
    }
    refused(
        lambda: nord.api.update_user(colleague, {**person, "attributes": attributes}),
        function,
        NOT_IN_GROUPEMENT,
    )
    assert platform.admin.get_user(colleague)["attributes"] == before


def test_partial_import_is_refused_to_a_coordinator(platform, world, nord):
    """The third way to write a user: Keycloak asks more than manage-users for it."""
    mailbox = new_email("import-du-coordonnateur")
    user = {
        "username": mailbox,
        "email": mailbox,
        "firstName": "Im",
        "lastName": "Port",
        "enabled": True,
        "attributes": {"collecte": [f"{world.siren_sud}/1"]},
        "groups": [f"/{nord.code}/{world.siren_nord}"],
    }
    answer = nord.api.connection.raw_post(
        "admin/realms/collecte/partialImport",
        data=json.dumps({"ifResourceExists": "OVERWRITE", "users": [user]}),
    )
    assert answer.status_code == 403, answer.text
    assert platform.admin.get_users({"email": mailbox, "exact": True}) == []
    # nor may it overwrite a member of their groupement that way
    member = platform.admin.get_user(nord.member_id)
    overwrite = {**user, "username": member["username"], "email": member["email"]}
    answer = nord.api.connection.raw_post(
        "admin/realms/collecte/partialImport",
        data=json.dumps({"ifResourceExists": "OVERWRITE", "users": [overwrite]}),
    )
    assert answer.status_code == 403, answer.text
    assert platform.admin.get_user(nord.member_id)["attributes"]["collecte"] == [
        f"{world.siren_nord}/1"
    ]


def test_coordinator_still_gives_and_removes_functions_inside_their_groupement(
    platform, world, nord
):
    created = nord.api.create_user(
        {
            **person_in(world, (nord.code, world.siren_nord)),
            "attributes": {
                "collecte": [f"{world.siren_nord}/1"],
                "technique": [f"{world.siren_nord_2}/1"],
            },
        }
    )
    person = nord.api.get_user(created)
    attributes = {
        **person["attributes"],
        "facturation": [f"{world.siren_nord}/1", f"{world.siren_nord_2}/1"],
        "technique": [],
    }
    nord.api.update_user(created, {**person, "attributes": attributes})
    after = platform.admin.get_user(created)["attributes"]
    assert after["collecte"] == [f"{world.siren_nord}/1"]
    assert sorted(after["facturation"]) == sorted(
        [f"{world.siren_nord}/1", f"{world.siren_nord_2}/1"]
    )
    assert "technique" not in after


def test_a_function_of_another_groupement_already_held_stays_as_it_is(platform, world, nord):
    """Values already on the person and sent back unchanged are accepted (the console re-sends
    every attribute); taking them away is not the coordinator's business."""
    person_id = known_in_sud_too(platform, world)
    person = nord.api.get_user(person_id)
    attributes = {**person["attributes"], "technique": [f"{world.siren_nord_2}/1"]}
    nord.api.update_user(person_id, {**person, "attributes": attributes, "lastName": "Modifié"})
    after = platform.admin.get_user(person_id)
    assert sorted(after["attributes"]["collecte"]) == sorted(
        [f"{world.siren_nord}/1", f"{world.siren_sud}/1"]
    )
    assert (after["lastName"], after["attributes"]["technique"]) == (
        "Modifié",
        [f"{world.siren_nord_2}/1"],
    )
    person = nord.api.get_user(person_id)
    attributes = {**person["attributes"], "collecte": [f"{world.siren_nord}/1"]}
    refused(
        lambda: nord.api.update_user(person_id, {**person, "attributes": attributes}),
        "collecte",
        ANOTHER_GROUPEMENTS,
    )
    assert len(platform.admin.get_user(person_id)["attributes"]["collecte"]) == 2


def test_a_member_of_two_groupements_is_out_of_both_coordinators_reach(platform, world, nord, sud):
    """Keycloak 26.7.3's own permissions (every group's permission must grant): recorded here
    because the rules above rely on it for people of two groupements."""
    both = platform.admin.create_user(
        person_in(world, (nord.code, world.siren_nord), (sud.code, world.siren_sud))
    )
    for coordinator in (nord, sud):
        with pytest.raises(KeycloakError) as refusal:
            coordinator.api.get_user(both)
        assert refusal.value.response_code == 403


def test_user_managers_are_not_restricted(platform, world, nord):
    """The portal's service account grants what support decided, in any groupement."""
    portal = portal_admin(platform)
    created = portal.create_user(
        {
            **person_in(world, (nord.code, world.siren_nord)),
            "attributes": {
                "collecte": [f"{world.siren_nord}/1", f"{world.siren_sud}/1"],
                "demandeCollecteEnAttente": ["oui"],
            },
        }
    )
    assert len(platform.admin.get_user(created)["attributes"]["collecte"]) == 2


# --- records only the portal writes -----------------------------------------------------------

PORTAL_RECORDS = {
    "demandesCollecte": json.dumps({"siren": "000000000", "lot": "1", "etat": "en_attente"}),
    "demandeCollecteSur": "213590003/1",
    "demandeCollecteEnAttente": "oui",
    "invitationEnvoyeeLe": "1700000000",
    "invitationExpireLe": "1700600000",
    "derniereModification": json.dumps({"par": "support@collecte.test", "le": "hier"}),
}


@pytest.mark.parametrize("attribute", sorted(PORTAL_RECORDS))
def test_coordinator_cannot_forge_what_only_the_portal_writes(
    platform, world, nord, colleague, attribute
):
    person = nord.api.get_user(colleague)
    attributes = {**person["attributes"], attribute: [PORTAL_RECORDS[attribute]]}
    refused(
        lambda: nord.api.update_user(colleague, {**person, "attributes": attributes}),
        attribute,
        PORTAL_ONLY,
    )
    assert attribute not in platform.admin.get_user(colleague)["attributes"]
    # nor when creating someone
    representation = person_in(world, (nord.code, world.siren_nord))
    representation["attributes"][attribute] = [PORTAL_RECORDS[attribute]]
    refused(lambda: nord.api.create_user(representation), attribute, PORTAL_ONLY)
    assert platform.admin.get_users({"email": representation["email"], "exact": True}) == []


def test_the_portals_records_sent_back_unchanged_are_accepted(platform, nord, colleague):
    """The console re-sends every attribute of the form: editing such a person still works."""
    stored = platform.admin.get_user(colleague)
    platform.admin.update_user(
        colleague,
        {
            **stored,
            "attributes": {**stored["attributes"], **{k: [v] for k, v in PORTAL_RECORDS.items()}},
        },
    )
    person = nord.api.get_user(colleague)
    nord.api.update_user(colleague, {**person, "lastName": "Corrigé"})
    after = platform.admin.get_user(colleague)
    assert after["lastName"] == "Corrigé"
    assert {k: after["attributes"][k] for k in PORTAL_RECORDS} == {
        k: [v] for k, v in PORTAL_RECORDS.items()
    }


# --- a former coordinator --------------------------------------------------------------------


def test_a_former_coordinator_gives_no_function_even_from_their_marker_group(platform):
    """The `coordonnateur` role and the marker group are both needed: with the role removed, a
    person left in `/coordonnateurs/<code>` grants nothing, not even in that groupement (400
    from the user profile, or 403 where the permissions already refuse)."""
    siren = fresh_siren()
    former = groupement(platform, f"GRP-ANCIEN-{uuid.uuid4().hex[:6].upper()}", siren)
    # Also a collection contact of one of his adherents: without the role he still signs in (as
    # a member), so the refusal below is the write's, not a closed sign-in.
    coordinator = platform.admin.get_user(former.coordinator_id)
    attributes = {**coordinator.get("attributes", {}), "collecte": [f"{siren}/1"]}
    platform.admin.update_user(former.coordinator_id, {**coordinator, "attributes": attributes})
    platform.admin.group_user_add(former.coordinator_id, former.adherent_id)
    role = platform.admin.get_realm_role("coordonnateur")
    platform.admin.delete_realm_roles_of_user(former.coordinator_id, [role])
    mailbox = new_email("ancien-coordonnateur")
    with pytest.raises(KeycloakError) as refusal:
        former.api.create_user(
            {
                "email": mailbox,
                "firstName": "Ex",
                "lastName": "Coordonnateur",
                "enabled": True,
                "attributes": {"collecte": [f"{siren}/1"]},
                "groups": [f"/{former.code}/{siren}"],
            }
        )
    assert refusal.value.response_code in (400, 403), refusal.value
    assert platform.admin.get_users({"email": mailbox, "exact": True}) == []
