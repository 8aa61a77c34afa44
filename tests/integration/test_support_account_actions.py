"""Support's withdrawal of a collection function and e-mail change, against the real Keycloak."""

from __future__ import annotations

import pytest

from portal.core.domain import Function, Scope
from portal.core.keycloak.support_admin import EmailTaken
from portal.core.services.member_space import MemberSpace, NotAllowed
from portal.core.services.support_desk import (
    NotCollectionContact,
    SameEmail,
    StaffEmail,
    SupportDesk,
)
from tests.helpers.realm_data import fresh_siren, principal_of

SUPPORT = "sam.support@collecte.test"


@pytest.fixture
def desk(platform, gateway) -> SupportDesk:
    return SupportDesk(gateway, SUPPORT, f"{platform.portal_url}/connexion")


def member_of(platform, adherent, create_person, *scopes: str) -> tuple[str, str]:
    """A collection contact of ``scopes`` (lots of one fresh adherent), in its group, principal
    of the first; returns the person's id and the SIREN."""
    siren = adherent(fresh_siren(), lots=("1", "2"))
    person_id = create_person(collecte=[f"{siren}/{lot}" for lot in scopes])
    group = platform.admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
    platform.admin.group_user_add(person_id, group["id"])
    group.setdefault("attributes", {})[f"principal.{scopes[0]}"] = [person_id]
    platform.admin.update_group(group["id"], group)
    return person_id, siren


def test_withdrawal_removes_one_function_keeps_the_principal_and_the_space_follows(
    platform, gateway, desk, adherent, create_person
):
    person_id, siren = member_of(platform, adherent, create_person, "1", "2")
    one, two = Scope(siren, "1"), Scope(siren, "2")

    preview = desk.revocation(person_id, one)
    assert preview.principal and not preview.last_function
    assert gateway.person(person_id).holds(Function.COLLECTE, one)  # nothing written yet

    done = desk.revoke_collection(person_id, one)

    after = gateway.person(person_id)
    assert after.scopes(Function.COLLECTE) == {two}
    assert done.principal and principal_of(platform, siren, "1") == person_id
    assert after.last_change is not None and after.last_change.by == SUPPORT
    space = MemberSpace.for_person(gateway, person_id)  # what the next portal request builds
    with pytest.raises(NotAllowed):
        space.member.require(one)
    space.member.require(two)
    with pytest.raises(NotCollectionContact):
        desk.revoke_collection(person_id, one)
    [latest, *_] = desk.history_of_person(after.email)
    assert (latest.by, latest.what) == (
        SUPPORT,
        f"retrait de la fonction d'interlocuteur de collecte {one}",
    )


def test_email_change_is_one_write_to_be_confirmed(
    platform, gateway, desk, create_person, unique_email
):
    person_id = create_person(collecte=[f"{fresh_siren()}/1"])
    platform.admin.update_user(person_id, {"emailVerified": True, "requiredActions": []})
    old = gateway.person(person_id)
    new = unique_email("nouvelle")

    changed = desk.change_email(desk.check_email_change(person_id), new.upper())

    stored = platform.admin.get_user(person_id)
    assert (stored["email"], stored["username"]) == (new, new)
    assert stored["emailVerified"] is False and stored["requiredActions"] == ["VERIFY_EMAIL"]
    assert changed.email == new and gateway.find_person_by_email(old.email) is None
    assert stored["attributes"]["collecte"] == old_scopes(old)
    with pytest.raises(SameEmail):
        desk.change_email(gateway.person(person_id), new)


def old_scopes(person) -> list[str]:
    return [str(scope) for scope in sorted(person.scopes(Function.COLLECTE))]


def test_an_address_already_used_is_refused_by_the_desk_and_by_keycloak(
    platform, gateway, desk, create_person, unique_email
):
    taken = unique_email("prise")
    create_person(email=taken)
    person_id = create_person()
    before = platform.admin.get_user(person_id)
    with pytest.raises(EmailTaken):
        desk.change_email(gateway.person(person_id), taken)
    with pytest.raises(EmailTaken):  # taken between the check and the write: Keycloak's 409
        gateway.change_email(person_id, taken, desk._change("essai"))
    assert platform.admin.get_user(person_id)["email"] == before["email"]


def test_a_staff_address_is_not_changed_from_the_portal(platform, desk, create_person):
    person_id = create_person()
    platform.admin.assign_realm_roles(person_id, [platform.admin.get_realm_role("support")])
    with pytest.raises(StaffEmail):
        desk.check_email_change(person_id)
