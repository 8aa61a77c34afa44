"""Support's work against the real Keycloak: queue, decisions, principal, diagnosis, history."""

from __future__ import annotations

import pytest

from portal.core.domain import Change, ContactDetails, Function, RequestStatus, Scope
from portal.core.keycloak.gateway import InvitationNotSent
from portal.core.services.support_desk import LotNotInContract, SupportDesk
from tests.helpers.ports import free_port

SIREN = "213500028"  # each test its own adherent, so lots and principals do not mix
SUPPORT = "sam.support@collecte.test"


@pytest.fixture
def desk(platform, gateway) -> SupportDesk:
    return SupportDesk(gateway, SUPPORT, f"{platform.portal_url}/connexion")


def details(email: str) -> ContactDetails:
    return ContactDetails("Durand", "Léa", email, None, "+33612345678")


def request_for(gateway, email: str, scope: Scope):
    return gateway.add_request(details(email), scope, "marie@demoville.fr", Change.now("m", "d"))


def test_accepting_a_request_grants_invites_and_keeps_the_first_principal(
    platform, gateway, desk, adherent, unique_email
):
    adherent(SIREN, lots=("1", "2", "3"))
    scope = Scope(SIREN, "3")
    first_email, second_email = unique_email("premier"), unique_email("second")
    first, first_request = request_for(gateway, first_email, scope)
    second, second_request = request_for(gateway, second_email, scope)

    queued = [(item.person.id, item.request.id) for item in desk.queue(siren=SIREN, lot="3")]
    assert (first.id, first_request.id) in queued and (second.id, second_request.id) in queued
    assert desk.queue(siren="253500011") == [] or all(
        item.request.scope.siren != SIREN for item in desk.queue(siren="253500011")
    )

    grant = desk.accept(first.id, first_request.id)
    assert grant.made_principal and grant.invitation is not None
    assert grant.person.holds(Function.COLLECTE, scope)
    platform.mail.wait_for(first_email)

    later = desk.accept(second.id, second_request.id)
    assert not later.made_principal
    assert gateway.adherent(SIREN).principal_id("3") == first.id
    assert (first.id, first_request.id) not in [
        (item.person.id, item.request.id) for item in desk.queue()
    ]
    [accepted] = [r for r in gateway.person(first.id).requests if r.id == first_request.id]
    assert accepted.status is RequestStatus.ACCEPTED and accepted.decided_by == SUPPORT


def test_refusing_a_request_gives_the_reason_and_no_access(gateway, desk, adherent, unique_email):
    siren = adherent("213500036")
    person, request = request_for(gateway, unique_email("refuse"), Scope(siren, "1"))
    refused = desk.refuse(person.id, request.id, "Personne inconnue de l'adhérent")
    assert refused.status is RequestStatus.REFUSED
    after = gateway.person(person.id)
    assert not after.scopes(Function.COLLECTE)
    [stored] = after.requests
    assert stored.reason == "Personne inconnue de l'adhérent"


def test_direct_add_checks_the_lot(desk, adherent, unique_email):
    siren = adherent("213500044", lots=("1",))
    with pytest.raises(LotNotInContract):
        desk.add_collection_contact(details(unique_email()), Scope(siren, "9"))


def test_smtp_failure_leaves_no_half_made_contact(platform, gateway, desk, adherent, unique_email):
    siren = adherent("213500051", lots=("4",))
    email = unique_email("sans-mail")
    realm = platform.admin.get_realm("collecte")
    broken = {**realm["smtpServer"], "port": str(free_port())}
    platform.admin.update_realm("collecte", {"smtpServer": broken})
    try:
        with pytest.raises(InvitationNotSent):
            desk.add_collection_contact(details(email), Scope(siren, "4"))
    finally:
        platform.admin.update_realm("collecte", {"smtpServer": realm["smtpServer"]})
    assert gateway.find_person_by_email(email) is None
    assert gateway.adherent(siren).principal_id("4") is None


def test_diagnosis_of_unknown_technical_and_invited_people(
    gateway, desk, adherent, create_person, unique_email
):
    siren = adherent("213500069")
    unknown = desk.diagnose(unique_email("inconnu"))
    assert not unknown.known and not unknown.can_sign_in

    technical_id = create_person(technique=[f"{siren}/1"])
    technical = desk.diagnose(gateway.person(technical_id).email)
    assert technical.known and technical.collection_scopes == () and not technical.can_sign_in

    invited = desk.add_collection_contact(details(unique_email("invite")), Scope(siren, "2"))
    diagnosis = desk.diagnose(invited.person.email)
    assert diagnosis.collection_scopes == (Scope(siren, "2"),)
    assert diagnosis.invitation is not None and not diagnosis.invitation.expired()
    assert diagnosis.activated_at is None and not diagnosis.can_sign_in
    assert "UPDATE_PASSWORD" not in diagnosis.pending_actions  # asked by the link, not at login
    assert "TERMS_AND_CONDITIONS" in diagnosis.pending_actions


def test_history_names_who_changed_what(gateway, desk, adherent, unique_email):
    siren = adherent("213500077")
    email = unique_email("historique")
    person, request = request_for(gateway, email, Scope(siren, "1"))
    desk.refuse(person.id, request.id, "Doublon")
    entries = desk.history_of_person(email)
    assert [entry.by for entry in entries][:2] == [SUPPORT, "m"]
    assert entries[0].what.startswith("demande refusée") and entries[0].target == email
    assert email in {entry.target for entry in desk.history_of_siren(siren)}
