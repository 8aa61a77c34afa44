"""What a coordinator may write, refused by Keycloak itself (user-profile validators of
keycloak/providers: FunctionsInOwnGroupementValidator, PortalRecordValidator,
ProtectedEmailValidator), tried with a real coordinator's Admin API token.

- Attack 1: a coordinator writes a function (`collecte`, `technique`, `facturation`) for a
  SIREN of another groupement, or a lot the adherent does not have, on a person of their own
  groupement, by creation, update or partial import.
- Attack 3: a coordinator redirects an activated member's (or a staff member's) address to a
  mailbox of their own, then sends the invitation or uses « Mot de passe oublié » to choose
  the password.
- The portal's own records (requests, invitation record, audit line) cannot be forged.

Callers with manage-users (the portal's service account, the provisioning) are not restricted.
The two e-mail journeys use « Mot de passe oublié » in Chromium (the `page` fixture).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from keycloak.exceptions import KeycloakError

from tests.e2e.journeys import open_login_form
from tests.helpers.coordination import (
    Groupement,
    add_colleague,
    adherent,
    groupement,
    new_email,
    portal_admin,
)
from tests.helpers.realm_data import fresh_siren

pytestmark = pytest.mark.keycloak

FUNCTIONS = ("collecte", "technique", "facturation")
NOT_IN_GROUPEMENT = "n’est pas un adhérent de votre groupement avec ce lot"
ANOTHER_GROUPEMENTS = "relève d’un autre groupement"
ACTIVATED = "Cette personne a activé son espace : seul le support"
STAFF = "membre de l’équipe de la plateforme : seul le support"
KNOWN_ELSEWHERE = "aussi interlocuteur d’un autre groupement"
PORTAL_ONLY = "Information tenue par le portail de la plateforme"


class World(NamedTuple):
    nord: Groupement
    sud: Groupement
    siren_nord: str  # lots ["1"], with its principal
    siren_nord_2: str  # lots ["1"]
    siren_sud: str


@pytest.fixture(scope="module")
def world(platform: Any) -> World:
    suffix = uuid.uuid4().hex[:6].upper()
    nord_code, sud_code = f"GRP-N{suffix}", f"GRP-S{suffix}"
    siren_nord, siren_nord_2, siren_sud = fresh_siren(), fresh_siren(), fresh_siren()
    nord = groupement(platform, nord_code, siren_nord)
    sud = groupement(platform, sud_code, siren_sud)
    adherent(platform.admin, nord_code, siren_nord_2)
    return World(nord, sud, siren_nord, siren_nord_2, siren_sud)


@pytest.fixture
def nord(world: World) -> Groupement:
    return world.nord


@pytest.fixture
def sud(world: World) -> Groupement:
    return world.sud


@pytest.fixture
def colleague(platform: Any, world: World) -> str:
    """A member of the nord adherent, not its principal, not activated."""
    return add_colleague(platform.admin, world.nord.code, world.siren_nord)


def errors(error: KeycloakError) -> list[dict[str, Any]]:
    body = json.loads(error.response_body)
    return list(body.get("errors") or [body])


def refused(call: Callable[[], Any], field: str, text: str) -> None:
    """Keycloak's user profile refused the write: 400, the French sentence on the field."""
    with pytest.raises(KeycloakError) as refusal:
        call()
    assert refusal.value.response_code == 400, refusal.value
    found = errors(refusal.value)
    assert any(e.get("field") == field and text in e.get("errorMessage", "") for e in found), found


def person_in(world: World, *scopes: tuple[str, str], email: str | None = None) -> dict[str, Any]:
    """A new person's representation: collection contact for each (groupement, SIREN), member
    of each adherent."""
    return {
        "email": email or new_email("personne"),
        "firstName": "Dominique",
        "lastName": "Essai",
        "enabled": True,
        "attributes": {"collecte": [f"{siren}/1" for _, siren in scopes]},
        "groups": [f"/{code}/{siren}" for code, siren in scopes],
    }


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


def known_in_sud_too(platform: Any, world: World) -> str:
    """A collection contact of a nord adherent who also holds a function for sud's SIREN, but
    is a member of the nord adherent only (a member of adherents of both groupements is out of
    both coordinators' reach: Keycloak's permissions refuse even reading them)."""
    return str(
        platform.admin.create_user(
            {
                **person_in(world, (world.nord.code, world.siren_nord)),
                "attributes": {"collecte": [f"{world.siren_nord}/1", f"{world.siren_sud}/1"]},
            }
        )
    )


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


# --- attack 3: the e-mail of an activated person or of a staff member ------------------------


def passwords(platform: Any, user_id: str) -> list[tuple[str, Any]]:
    return [
        (c["id"], c["createdDate"])
        for c in platform.admin.get_credentials(user_id)
        if c["type"] == "password"
    ]


def forgot_password(page: Any, platform: Any, email: str) -> None:
    """« Mot de passe oublié » in Chromium, from the portal's sign-in page. Keycloak's reset
    step (ours pads it) sends the mail, if any, before it answers: once the sign-in form is
    back, the mail is in the sink or never will be."""
    open_login_form(page, platform.portal_url)
    page.click("a[href*='reset-credentials']")
    page.fill("#username", email)
    page.click("#kc-form-buttons")
    page.wait_for_selector("#kc-form-login")


class Member(NamedTuple):
    id: str
    email: str


@pytest.fixture
def activated_colleague(platform: Any, colleague: str) -> Iterator[Member]:
    """The colleague after following their invitation (test shortcut: the product never sets a
    password)."""
    platform.admin.set_user_password(colleague, "Choisi-par-le-membre-2025", temporary=False)
    platform.admin.update_user(colleague, {"requiredActions": [], "emailVerified": True})
    yield Member(colleague, platform.admin.get_user(colleague)["email"])


def test_coordinator_cannot_take_an_activated_members_account_through_their_email(
    platform, nord, activated_colleague, page
):
    member = activated_colleague
    mailbox = new_email("boite-du-coordonnateur")
    credentials = passwords(platform, member.id)
    assert len(credentials) == 1

    person = nord.api.get_user(member.id)
    refused(
        lambda: nord.api.update_user(member.id, {**person, "email": mailbox}), "email", ACTIVATED
    )
    # the username follows the address (registrationEmailAsUsername): no way round through it
    try:
        nord.api.update_user(member.id, {**person, "username": mailbox})
    except KeycloakError as error:
        assert error.response_code == 400, error
    after = platform.admin.get_user(member.id)
    assert (after["email"], after["username"]) == (member.email, member.email)

    # the invitation then reaches the member's own mailbox, not the coordinator's
    received = platform.mail.count_for(member.email)
    nord.api.send_update_account(user_id=member.id, payload=["UPDATE_PASSWORD"])
    platform.mail.wait_for(member.email, count=received + 1)
    # « Mot de passe oublié » for the coordinator's mailbox finds nobody, for the member's own
    # address it mails the member: the silence is the address's, not a broken reset
    forgot_password(page, platform, mailbox)
    forgot_password(page, platform, member.email)
    platform.mail.wait_for(member.email, count=received + 2)
    assert platform.mail.count_for(mailbox) == 0
    assert passwords(platform, member.id) == credentials


def test_coordinator_cannot_change_a_staff_members_email(platform, world, nord, page):
    """A support account that is also a member of one of the coordinator's adherents: its role
    `support` includes `equipe-plateforme` (composite)."""
    staff_email = new_email("support")
    staff = platform.admin.create_user(
        {**person_in(world, (nord.code, world.siren_nord)), "email": staff_email}
    )
    platform.admin.assign_realm_roles(staff, [platform.admin.get_realm_role("support")])
    mailbox = new_email("boite-du-coordonnateur")

    person = nord.api.get_user(staff)
    refused(lambda: nord.api.update_user(staff, {**person, "email": mailbox}), "email", STAFF)
    assert platform.admin.get_user(staff)["email"] == staff_email
    nord.api.send_update_account(user_id=staff, payload=["UPDATE_PASSWORD"])
    platform.mail.wait_for(staff_email)
    forgot_password(page, platform, mailbox)
    assert platform.mail.count_for(mailbox) == 0
    assert passwords(platform, staff) == []


def test_coordinator_cannot_change_the_email_of_someone_known_in_another_groupement(
    platform, world, nord
):
    person_id = known_in_sud_too(platform, world)
    email = platform.admin.get_user(person_id)["email"]
    person = nord.api.get_user(person_id)
    refused(
        lambda: nord.api.update_user(person_id, {**person, "email": new_email("ailleurs")}),
        "email",
        KNOWN_ELSEWHERE,
    )
    assert platform.admin.get_user(person_id)["email"] == email


def test_coordinator_may_correct_the_email_of_a_colleague_not_yet_activated(
    platform, nord, colleague
):
    corrected = new_email("adresse-corrigee")
    person = nord.api.get_user(colleague)
    nord.api.update_user(colleague, {**person, "email": corrected})
    after = platform.admin.get_user(colleague)
    assert (after["email"], after["username"]) == (corrected, corrected)


def test_support_may_still_change_an_activated_members_email(platform, activated_colleague):
    corrected = new_email("adresse-changee-par-le-support")
    portal_admin(platform).update_user(activated_colleague.id, {"email": corrected})
    assert platform.admin.get_user(activated_colleague.id)["email"] == corrected


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
