"""The portal's gateway against the real Keycloak: searches, writes, atomicity, audit."""

from __future__ import annotations

import pytest

from portal.core.domain import Change, ContactDetails, Function, Scope
from portal.core.keycloak.gateway import UnknownAdherent
from tests.helpers.realm_data import fresh_siren

SIREN_A = "213500010"
SIREN_B = "253500011"


def details(email: str, **changes: str | None) -> ContactDetails:
    values = {
        "last_name": "Technicien",
        "first_name": "Jean",
        "email": email,
        "phone_fixe": "+33299000001",
        "phone_mobile": None,
    }
    values.update(changes)
    return ContactDetails(**values)  # type: ignore[arg-type]


def test_adherent_is_found_by_siren_with_its_lots(gateway, adherent):
    siren = adherent(fresh_siren(), "Commune de Démoville", ("1", "2"))
    found = gateway.adherent(siren)
    assert found is not None
    assert (found.siren, found.name, found.groupement, found.lots) == (
        siren,
        "Commune de Démoville",
        "GRP-ESSAI",
        ("1", "2"),
    )
    assert gateway.adherent("552081317") is None


def test_a_new_contact_is_created_with_function_group_and_audit(gateway, adherent, unique_email):
    adherent(SIREN_A)
    email = unique_email("technique")
    scope = Scope(SIREN_A, "1")
    person = gateway.add_functions(
        details(email), [Function.TECHNIQUE], scope, Change.now("marie@exemple.fr", "ajout")
    )
    assert person.email == email and person.phone_fixe == "+33299000001"
    assert person.holds(Function.TECHNIQUE, scope)
    assert person.last_change is not None and person.last_change.by == "marie@exemple.fr"
    assert [p.id for p in gateway.people_with("technique", scope)].count(person.id) == 1
    assert person.id not in [p.id for p in gateway.people_with("technique", Scope(SIREN_A, "2"))]


def test_one_email_is_one_person_who_may_hold_several_functions(gateway, adherent, unique_email):
    adherent(SIREN_A)
    adherent(SIREN_B)
    email = unique_email("double")
    first = gateway.add_functions(
        details(email), [Function.TECHNIQUE], Scope(SIREN_A, "1"), Change.now("a@x.fr", "ajout")
    )
    second = gateway.add_functions(
        details(email.upper(), first_name="Autre"),
        [Function.FACTURATION],
        Scope(SIREN_B, "1"),
        Change.now("b@x.fr", "ajout"),
    )
    assert second.id == first.id
    assert second.first_name == "Jean"  # an existing person keeps their own names
    assert second.holds(Function.TECHNIQUE, Scope(SIREN_A, "1"))
    assert second.holds(Function.FACTURATION, Scope(SIREN_B, "1"))


def test_an_update_keeps_the_other_functions(gateway, adherent, activated_person):
    adherent(SIREN_A)
    email = activated_person("Mot-de-passe-essai-1", collecte=[f"{SIREN_A}/1"])
    person = gateway.find_person_by_email(email)
    gateway.update_contact(
        person.id, Scope(SIREN_A, "2"), {Function.TECHNIQUE: True}, Change.now("s@x.fr", "ajout")
    )
    after = gateway.person(person.id)
    assert after.holds(Function.COLLECTE, Scope(SIREN_A, "1"))
    assert after.holds(Function.TECHNIQUE, Scope(SIREN_A, "2"))


def test_unknown_adherent_writes_nothing(gateway, unique_email):
    email = unique_email("orphelin")
    with pytest.raises(UnknownAdherent):
        gateway.add_functions(
            details(email), [Function.TECHNIQUE], Scope("552081317", "1"), Change.now("a@x.fr", "x")
        )
    assert gateway.find_person_by_email(email) is None


def test_requests_are_recorded_listed_and_withdrawn(gateway, adherent, unique_email):
    adherent(SIREN_A)
    scope = Scope(SIREN_A, "2")
    email = unique_email("propose")
    person, request = gateway.add_request(
        details(email), scope, "marie@exemple.fr", Change.now("marie@exemple.fr", "demande")
    )
    listed = gateway.requests_on(scope)
    assert (person.id, request.id) in [(p.id, r.id) for p, r in listed]
    assert not person.scopes(Function.COLLECTE)
    gateway.withdraw_request(person.id, request.id, Change.now("marie@exemple.fr", "annulation"))
    assert request.id not in [r.id for _, r in gateway.requests_on(scope)]
