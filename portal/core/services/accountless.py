"""« Demande sans compte » : someone who cannot sign in at all — no collection contact left for
their SIREN/lot, the only one has left — asks to become its collection contact.

The public form (:mod:`portal.web.main`) answers the same page whatever the SIREN, lot or
address, and does no more than enqueue :meth:`AccountlessRequests.record`. The task then
records a pending request in support's queue, marked « demande sans compte », and tells
support, who checks it with the groupement's coordinator before accepting: accepting grants the
function and sends Keycloak's invitation to the typed address, so only its owner ever activates
the space. Nothing is recorded, and nothing said, for a SIREN that is no adherent, a lot outside
its contract, a staff address, someone already collection contact there or a request already
waiting. A known person keeps their identity: the typed names and phones are not used.
"""

from __future__ import annotations

import logging

from portal.core.authority import acts_for
from portal.core.domain import (
    Change,
    CollectionRequest,
    ContactDetails,
    Function,
    Person,
    RequestStatus,
    Scope,
)
from portal.core.errors import AlreadyCollectionContact, ProtectedAddress
from portal.core.keycloak import schema
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.notify import Mailer, NotificationFailed

log = logging.getLogger(__name__)

#: Who made the change, in the person's record and history: the address typed by someone who
#: was not signed in — a claim, not an identity.
AUTHOR = "formulaire public « demande sans compte » (adresse déclarée : {email})"


class AlreadyWaiting(Exception):
    """The person already has a request waiting for this SIREN/lot."""


class AccountlessRequests:
    """Records « demandes sans compte » (run by the task queue)."""

    def __init__(self, gateway: KeycloakGateway, mailer: Mailer, queue_url: str) -> None:
        """``queue_url``: support's queue, named in the mail to support."""
        self.gateway, self.mailer, self.queue_url = gateway, mailer, queue_url

    def record(self, details: ContactDetails, scope: Scope) -> CollectionRequest | None:
        """The pending request, support told; None when there is nothing to record."""
        adherent = self.gateway.adherent(scope.siren)
        if adherent is None or scope.lot not in adherent.lots:
            log.info("Demande sans compte ignorée : %s n'est pas un lot d'adhérent.", scope)
            return None
        author = AUTHOR.format(email=details.email)
        try:
            person, request = self.gateway.add_request(
                details,
                scope,
                details.email,
                Change.now(author, f"demande sans compte {scope}"),
                lambda existing: self._vet(existing, scope),
                without_account=True,
            )
        except (ProtectedAddress, AlreadyCollectionContact, AlreadyWaiting) as why:
            log.info("Demande sans compte ignorée pour %s : %s.", scope, type(why).__name__)
            return None
        try:
            self.mailer.accountless_request(details, scope, adherent, self.queue_url)
        except NotificationFailed:
            # Support would never see it: nothing stays, and the task queue tries again.
            self.gateway.withdraw_request(
                person.id, request.id, Change.now(author, f"demande sans compte {scope} annulée")
            )
            raise
        return request

    def _vet(self, existing: Person, scope: Scope) -> None:
        """Refuse, before anything is written, what support must not be asked to accept."""
        if schema.STAFF_ROLE in self.gateway.realm_roles(existing.id):
            raise ProtectedAddress(existing.email)
        memberships = self.gateway.person_adherents(existing.id)
        if acts_for(existing, Function.COLLECTE, scope, memberships):
            raise AlreadyCollectionContact(existing.email)
        if any(r.scope == scope and r.status is RequestStatus.PENDING for r in existing.requests):
            raise AlreadyWaiting(existing.email)
