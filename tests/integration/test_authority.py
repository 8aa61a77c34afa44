"""The authority rule and a member's remit against the real Keycloak (issue 9, attacks 1 and 2).

A function counts only with membership of the adherent's group and a lot of the adherent; a
member links a person known elsewhere to their SIREN/lot but never rewrites them, never adds
staff, and « Retirer » takes the person back out of the adherent's group.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from portal import defaults
from portal.core.abuse_limits import AbuseLimits
from portal.core.domain import ContactDetails, Function, Scope
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services import diagnostic
from portal.core.services.follow_up import follow_up
from portal.core.services.member_space import MemberSpace, NotAllowed, ProtectedAddress
from tests.helpers.realm_data import fresh_siren


def details(email: str) -> ContactDetails:
    return ContactDetails("Usurpe", "Nom", email, "+33299111111", "+33611111111")


def space_of(gateway: KeycloakGateway, person_id: str) -> MemberSpace:
    return MemberSpace.for_person(gateway, person_id)


def group_member_ids(platform: Any, siren: str) -> set[str]:
    group = platform.admin.get_group_by_path(f"/GRP-ESSAI/{siren}")
    return {user["id"] for user in platform.admin.get_group_members(group["id"])}


# --- attack 1, portal side ---------------------------------------------------------------------


def test_a_collecte_value_without_membership_gives_nothing(
    platform, gateway, adherent, create_person
):
    siren = adherent(fresh_siren())
    scope = Scope(siren, "1")
    outsider = create_person(collecte=[str(scope)], join=False)

    space = space_of(gateway, outsider)
    assert space.member.scopes == ()
    with pytest.raises(NotAllowed):
        space.contacts(scope)

    email = platform.admin.get_user(outsider)["email"]
    diagnosis = gateway.diagnosis(email)
    assert diagnosis.collection_scopes == ()
    [row] = [c for c in diagnostic.conditions(diagnosis) if c.key == "collecte"]
    assert row.blocking
    assert f"{scope} (n’est pas membre du groupe de l’adhérent {siren})" in row.detail

    # The follow-up agrees: nobody to follow for this adherent.
    followed = follow_up(gateway, "GRP-ESSAI")
    assert followed is not None
    assert outsider not in {line.person.id for line in followed.lines}


def test_lot_isolation_and_lots_of_the_adherent(gateway, adherent, create_person):
    siren = adherent(fresh_siren(), lots=("1", "2"))
    member = create_person(collecte=[f"{siren}/1", f"{siren}/3"])
    space = space_of(gateway, member)
    assert space.member.scopes == (Scope(siren, "1"),)
    with pytest.raises(NotAllowed):
        space.member.require(Scope(siren, "2"))
    with pytest.raises(NotAllowed):  # lot 3 is not one of the adherent's lots
        space.contacts(Scope(siren, "3"))
    assert member in {p.id for p in space.contacts(Scope(siren, "1")).collection}


# --- attack 2: a member pulls another adherent's principal into their own adherent -------------


@pytest.fixture
def two_adherents(gateway, adherent, create_person) -> Callable[[], tuple[Scope, str, Scope, str]]:
    """A member of A/1, and the principal of B/1 (another adherent)."""

    def make() -> tuple[Scope, str, Scope, str]:
        scope_a, scope_b = Scope(adherent(fresh_siren()), "1"), Scope(adherent(fresh_siren()), "1")
        member = create_person(collecte=[str(scope_a)])
        principal = create_person(
            collecte=[str(scope_b)], first_name="Paula", last_name="Principale"
        )
        gateway.ensure_principal(scope_b, principal)
        return scope_a, member, scope_b, principal

    return make


def test_a_member_cannot_take_over_another_adherents_principal(platform, gateway, two_adherents):
    scope_a, member, scope_b, principal = two_adherents()
    before = platform.admin.get_user(principal)
    space = space_of(gateway, member)

    space.add_contact(scope_a, details(before["email"]), frozenset({Function.TECHNIQUE}))

    after = platform.admin.get_user(principal)
    assert (after["firstName"], after["lastName"]) == ("Paula", "Principale")
    assert "telephoneFixe" not in after["attributes"]
    assert after["attributes"]["technique"] == [str(scope_a)]
    assert principal in group_member_ids(platform, scope_a.siren)

    contacts = space.contacts(scope_a)
    assert principal in {p.id for p in contacts.technical}
    assert principal not in contacts.editable  # shown by e-mail only

    with pytest.raises(NotAllowed):  # a forged edit
        space.edit_contact(
            scope_a, principal, details(before["email"]), frozenset({Function.TECHNIQUE})
        )
    assert platform.admin.get_user(principal)["firstName"] == "Paula"

    space.remove_contact(scope_a, principal)
    assert principal not in group_member_ids(platform, scope_a.siren)
    assert principal in group_member_ids(platform, scope_b.siren)
    assert platform.admin.get_user(principal)["attributes"].get("technique", []) == []


def test_a_contact_within_the_remit_stays_editable(platform, gateway, two_adherents):
    scope_a, member, _, _ = two_adherents()
    space = space_of(gateway, member)
    email = f"local-{uuid.uuid4().hex[:8]}@exemple-adherent.fr"
    added = space.add_contact(scope_a, details(email), frozenset({Function.TECHNIQUE}))
    person, editable = space.contact_standing(scope_a, added.id)
    assert editable and person.id in space.contacts(scope_a).editable
    edited = ContactDetails("Nouveau", "Nom", email, "+33299222222", None)
    space.edit_contact(scope_a, added.id, edited, frozenset({Function.FACTURATION}))
    assert platform.admin.get_user(added.id)["lastName"] == "Nouveau"


def test_a_staff_address_never_becomes_a_contact(platform, gateway, two_adherents, create_person):
    scope_a, member, _, _ = two_adherents()
    staff = create_person(first_name="Sacha", last_name="Support")
    role = platform.admin.get_realm_role("support")
    platform.admin.assign_realm_roles(staff, [role])
    before = platform.admin.get_user(staff)
    space = space_of(gateway, member)

    with pytest.raises(ProtectedAddress):
        space.add_contact(scope_a, details(before["email"]), frozenset({Function.TECHNIQUE}))
    with pytest.raises(ProtectedAddress):
        space.request_collection_contact(
            scope_a,
            details(before["email"]),
            mailer=None,  # type: ignore[arg-type]
            queue_url="",
            limits=AbuseLimits.from_config(vars(defaults)),
        )

    after = platform.admin.get_user(staff)
    assert after.get("attributes") == before.get("attributes")
    assert platform.admin.get_user_groups(staff) == []
