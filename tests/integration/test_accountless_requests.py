"""« Demande sans compte » against the real Keycloak: recorded in support's queue only for a lot
of an adherent, never for staff, someone already collection contact there or a request already
waiting; a known person keeps their identity; a mail failure leaves no request; support's
refusal is mailed to the person, and accepting invites them."""

from __future__ import annotations

from typing import Any

import pytest

from portal.core.domain import ContactDetails, Function, RequestStatus, Scope
from portal.core.keycloak import schema
from portal.core.notify import Mailer, NotificationFailed
from portal.core.services.accountless import AccountlessRequests
from portal.core.services.support_desk import SupportDesk

SIREN = "213500093"
QUEUE = "http://portail.test/support/"


class Outbox(Mailer):
    """Records what would be mailed to support; ``failing``: the mail server is down."""

    def __init__(self, failing: bool = False) -> None:
        self.sent: list[tuple[ContactDetails, Scope]] = []
        self.failing = failing

    def accountless_request(self, details: ContactDetails, scope: Scope, *_: Any) -> None:
        if self.failing:
            raise NotificationFailed("messagerie indisponible")
        self.sent.append((details, scope))


def typed(email: str) -> ContactDetails:
    return ContactDetails("Durand", "Léa", email, None, "+33612345678")


@pytest.fixture
def scope(adherent) -> Scope:
    adherent(SIREN, lots=("1", "2"))
    return Scope(SIREN, "2")


def pending(gateway, email: str) -> list:
    person = gateway.find_person_by_email(email)
    return [r for r in person.requests if r.status is RequestStatus.PENDING] if person else []


def test_an_unknown_address_is_recorded_as_a_request_without_account_and_support_told(
    gateway, scope, unique_email
):
    email, outbox = unique_email("sans-compte"), Outbox()
    recorded = AccountlessRequests(gateway, outbox, QUEUE).record(typed(email), scope)

    assert recorded is not None and recorded.without_account
    [(person, request)] = [(p, r) for p, r in gateway.pending_requests() if r.id == recorded.id]
    assert person.email == email and (person.first_name, person.last_name) == ("Léa", "Durand")
    assert request.scope == scope and request.requested_by == email
    assert not person.scopes(Function.COLLECTE)  # nothing granted before support accepts
    assert outbox.sent == [(typed(email), scope)]
    [entry, *_] = gateway.history([person.id])
    assert "formulaire public" in entry.by and email in entry.by


@pytest.mark.parametrize(
    "where", [Scope("213500101", "1"), Scope(SIREN, "7")], ids=["no-adherent", "lot-outside"]
)
def test_nothing_is_recorded_nor_said_for_a_siren_or_lot_outside_the_platform(
    gateway, scope, unique_email, where
):
    email, outbox = unique_email("ailleurs"), Outbox()
    assert AccountlessRequests(gateway, outbox, QUEUE).record(typed(email), where) is None
    assert gateway.find_person_by_email(email) is None and outbox.sent == []


def test_a_known_person_keeps_their_identity_and_a_second_request_is_not_queued(
    gateway, scope, create_person, unique_email
):
    email = unique_email("connue")
    create_person(technique=[str(scope)], email=email, first_name="Anne", last_name="Roux")
    outbox = AccountlessRequests(gateway, Outbox(), QUEUE)

    assert outbox.record(typed(email), scope) is not None
    assert outbox.record(typed(email), scope) is None
    person = gateway.find_person_by_email(email)
    assert (person.first_name, person.last_name) == ("Anne", "Roux")
    assert len(pending(gateway, email)) == 1


def test_a_collection_contact_there_or_a_staff_address_is_never_queued(
    platform, gateway, scope, create_person, unique_email
):
    contact, staff = unique_email("deja"), unique_email("equipe")
    create_person(collecte=[str(scope)], email=contact)
    staff_id = create_person(email=staff)
    role = platform.admin.get_realm_role(schema.SUPPORT_ROLE)
    platform.admin.assign_realm_roles(staff_id, [role])
    requests = AccountlessRequests(gateway, Outbox(), QUEUE)

    assert requests.record(typed(contact), scope) is None
    assert requests.record(typed(staff), scope) is None
    assert pending(gateway, contact) == [] and pending(gateway, staff) == []


def test_when_support_cannot_be_told_no_request_stays(gateway, scope, unique_email):
    email = unique_email("panne")
    with pytest.raises(NotificationFailed):
        AccountlessRequests(gateway, Outbox(failing=True), QUEUE).record(typed(email), scope)
    assert pending(gateway, email) == []
    assert all(r.requested_by != email for _, r in gateway.pending_requests())


def test_support_refusal_is_mailed_and_acceptance_invites(platform, gateway, scope, unique_email):
    desk = SupportDesk(gateway, "sam.support@collecte.test", f"{platform.portal_url}/connexion")
    mailer = Mailer({**platform.portal_config, "MAIL_FROM": "collecte@collecte.test"})
    refused_email, accepted_email = unique_email("refusee"), unique_email("acceptee")
    requests = AccountlessRequests(gateway, Outbox(), QUEUE)
    refused = requests.record(typed(refused_email), scope)
    accepted = requests.record(typed(accepted_email), scope)
    assert refused is not None and accepted is not None

    person = gateway.find_person_by_email(refused_email)
    desk.refuse(person.id, refused.id, "Inconnue du coordonnateur", mailer)
    told = platform.mail.wait_for(refused_email)
    body = told.get_body(("plain",)).get_content()
    assert "n'a pas été acceptée" in body and "Inconnue du coordonnateur" in body

    grant = desk.accept(gateway.find_person_by_email(accepted_email).id, accepted.id)
    assert grant.person.holds(Function.COLLECTE, scope) and grant.invitation is not None
    platform.mail.wait_for(accepted_email)
