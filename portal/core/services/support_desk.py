"""What the support team does, and who may: only people holding the realm role `support`."""

from __future__ import annotations

from dataclasses import dataclass

from portal import defaults
from portal.core.abuse_limits import AbuseLimits
from portal.core.domain import (
    Adherent,
    Change,
    CollectionRequest,
    ContactDetails,
    Diagnosis,
    Function,
    HistoryEntry,
    Invitation,
    Person,
    Scope,
)
from portal.core.errors import LotNotInContract as LotNotInContract
from portal.core.errors import NotCollectionContact as NotCollectionContact
from portal.core.errors import NotSupport as NotSupport  # re-exported: importers keep working
from portal.core.errors import SameEmail as SameEmail
from portal.core.errors import StaffEmail as StaffEmail
from portal.core.keycloak import schema
from portal.core.keycloak.gateway import (
    Grant,
    KeycloakGateway,
    UnknownAdherent,
    UnknownPerson,
    UnknownRequest,
)
from portal.core.keycloak.support_admin import EmailTaken
from portal.core.notify import Mailer

SUPPORT_ROLE = schema.SUPPORT_ROLE
#: Held by support and coordinators (composite): their e-mail is not changed from the portal.
STAFF_ROLE = schema.STAFF_ROLE


@dataclass(frozen=True)
class Revocation:
    """Withdrawing one collection function, as the confirmation page shows it (before) and as
    it was done (after)."""

    person: Person
    scope: Scope
    adherent: Adherent | None
    principal: bool  # the person stays the principal named for this SIREN/lot, without access

    @property
    def last_function(self) -> bool:
        """After it, the person is collection contact nowhere: no access to the platform."""
        return self.person.scopes(Function.COLLECTE) <= {self.scope}


@dataclass(frozen=True)
class QueueItem:
    person: Person
    request: CollectionRequest
    adherent: Adherent | None


class SupportDesk:
    def __init__(
        self,
        gateway: KeycloakGateway,
        actor: str,
        redirect_uri: str,
        limits: AbuseLimits | None = None,
    ) -> None:
        self.gateway = gateway
        self.actor = actor
        # Where the invitation's last page sends the person: the portal's sign-in.
        self.redirect_uri = redirect_uri
        # The application's limits; without them (scripts, tests), the default limits in a
        # store of this desk's own: never unlimited.
        self.limits = limits or AbuseLimits.from_config(vars(defaults))

    @classmethod
    def for_person(
        cls,
        gateway: KeycloakGateway,
        person_id: str,
        email: str,
        redirect_uri: str,
        limits: AbuseLimits | None = None,
    ) -> SupportDesk:
        """Checked against Keycloak on every request, so a withdrawn role takes effect at once."""
        if SUPPORT_ROLE not in gateway.realm_roles(person_id):
            raise NotSupport(person_id)
        return cls(gateway, email, redirect_uri, limits)

    def _change(self, what: str) -> Change:
        return Change.now(self.actor, what)

    def queue(
        self, siren: str | None = None, lot: str | None = None, groupement: str | None = None
    ) -> list[QueueItem]:
        """Pending requests, newest first, optionally for one SIREN, lot or groupement."""
        adherents: dict[str, Adherent | None] = {}
        items = []
        for person, request in self.gateway.pending_requests():
            scope = request.scope
            if (siren and scope.siren != siren) or (lot and scope.lot != lot):
                continue
            if scope.siren not in adherents:
                adherents[scope.siren] = self.gateway.adherent(scope.siren)
            adherent = adherents[scope.siren]
            if groupement and (adherent is None or adherent.groupement != groupement):
                continue
            items.append(QueueItem(person, request, adherent))
        return items

    def accept(self, person_id: str, request_id: str) -> Grant:
        person = self.gateway.person(person_id)
        request = next((r for r in person.requests if r.id == request_id), None) if person else None
        if request is None:
            raise UnknownRequest(request_id)
        scope = request.scope
        return self._grant(
            person_id,
            scope,
            self._change(f"demande acceptée : interlocuteur de collecte {scope}"),
            request_id=request_id,
        )

    def _grant(
        self,
        person_id: str,
        scope: Scope,
        change: Change,
        request_id: str | None = None,
        created: bool = False,
    ) -> Grant:
        """Grant the collection function; the invitation that comes with it counts against the
        person's invitation limit, which refuses the whole grant, before anything is written,
        when it is reached (:class:`LimitReached`)."""
        guard = self.limits.invitation(person_id)
        grant = self.gateway.grant_collection(
            person_id,
            scope,
            self.redirect_uri,
            change,
            request_id=request_id,
            created=created,
            before_inviting=guard.check,
        )
        if grant.invitation is not None:
            guard.count()
        return grant

    def refuse(
        self, person_id: str, request_id: str, reason: str, mailer: Mailer | None = None
    ) -> CollectionRequest:
        """Refuse, recording the reason (a member reads it on the SIREN/lot's page). Whoever
        made a « demande sans compte » cannot read that page: ``mailer`` tells them, after the
        refusal is recorded (:class:`NotificationFailed` then: tell them yourself)."""
        person, request = self.gateway.decide_request(
            person_id, request_id, False, reason, self._change(f"demande refusée : {reason}")
        )
        if request.without_account and mailer is not None:
            mailer.accountless_refused(person.email, request.scope, reason)
        return request

    def add_collection_contact(self, details: ContactDetails, scope: Scope) -> Grant:
        """Support's direct form: the first collection contact of a SIREN/lot becomes principal."""
        adherent = self.gateway.adherent(scope.siren)
        if adherent is None:
            raise UnknownAdherent(scope.siren)
        if scope.lot not in adherent.lots:
            raise LotNotInContract(str(scope))
        existing = self.gateway.find_person_by_email(details.email)
        change = self._change(f"ajout interlocuteur de collecte {scope}")
        if existing is not None:
            return self._grant(existing.id, scope, change)
        # Created without any function, then granted: one undo path (deletion) if a step fails.
        person = self.gateway.add_functions(details, (), scope, change)
        return self._grant(person.id, scope, change, created=True)

    def reinvite(self, person_id: str) -> Invitation:
        """A new link; the Keycloak extension makes the older ones stop working. Limited per
        person and per support agent (:class:`LimitReached`, nothing written or sent)."""
        with self.limits.invitation(person_id, self.actor).around():
            return self.gateway.invite(
                person_id, self.redirect_uri, self._change("invitation renvoyée")
            )

    def diagnose(self, email: str) -> Diagnosis:
        return self.gateway.diagnosis(email)

    def unlock(self, person_id: str) -> None:
        if self.gateway.person(person_id) is None:
            raise UnknownPerson(person_id)
        self.gateway.unlock(person_id)

    # --- withdrawing a collection function -------------------------------------------------

    def revocation(self, person_id: str, scope: Scope) -> Revocation:
        """What withdrawing the collection function on ``scope`` would do (nothing written)."""
        person = self.gateway.person(person_id)
        if person is None:
            raise UnknownPerson(person_id)
        if not person.holds(Function.COLLECTE, scope):
            raise NotCollectionContact(person, scope)
        adherent = self.gateway.adherent(scope.siren)
        principal = adherent is not None and adherent.principal_id(scope.lot) == person.id
        return Revocation(person, scope, adherent, principal)

    def revoke_collection(self, person_id: str, scope: Scope) -> Revocation:
        """Withdraw the function in one write, recorded as this support member's change; the
        principal's designation on the adherent stays (see README, « Modèle d'identité »)."""
        before = self.revocation(person_id, scope)
        change = self._change(f"retrait de la fonction d'interlocuteur de collecte {scope}")
        self.gateway.revoke_collection(person_id, scope, change)
        return before

    # --- changing a person's e-mail ----------------------------------------------------------

    def check_email_change(self, person_id: str) -> Person:
        """The person whose e-mail support may change: anyone but staff."""
        person = self.gateway.person(person_id)
        if person is None:
            raise UnknownPerson(person_id)
        if STAFF_ROLE in self.gateway.realm_roles(person_id):
            raise StaffEmail(person_id)
        return person

    def change_email(self, person: Person, email: str) -> Person:
        """The new address of ``person`` (from :meth:`check_email_change`), to be confirmed by
        them before it signs them in. Raises :class:`SameEmail` or :class:`EmailTaken` (someone
        else has it, without saying who), with nothing written."""
        email = email.strip().lower()  # as Keycloak keeps it, and as the form gives it
        if person.email.casefold() == email:
            raise SameEmail(email)
        owner = self.gateway.find_person_by_email(email)
        if owner is not None:
            raise EmailTaken(email)
        change = self._change(f"adresse e-mail changée ({person.email} → {email}), à confirmer")
        return self.gateway.change_email(person.id, email, change)

    # --- history -------------------------------------------------------------------------------

    def history_of_person(self, email: str) -> list[HistoryEntry]:
        person = self.gateway.find_person_by_email(email)
        return self.gateway.history([person.id]) if person else []

    def history_of_siren(self, siren: str) -> list[HistoryEntry]:
        """Changes to everyone attached to any lot of this SIREN."""
        adherent = self.gateway.adherent(siren)
        if adherent is None:
            return []
        people = {
            person.id
            for lot in adherent.lots
            for function in (*Function, schema.REQUESTS_ON)
            for person in self.gateway.people_with(str(function), Scope(siren, lot))
        }
        return self.gateway.history(sorted(people))
