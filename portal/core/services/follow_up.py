"""Suivi des activations d'un groupement : each collection contact of each SIREN/lot, the state
of their client space, and counts per lot.

Read from Keycloak through the gateway: the groupement's adherent groups (one call, paged), then
in one call every member of each adherent group (functions, invitation and CGU are attributes)
with when they chose their password (the only proof of activation) and their latest LOGIN event
(our extension's read, keycloak/providers ActivationsResource). A Keycloak without that read:
the members of each adherent (one call each), then for each distinct collection contact their
password credential and, for those activated, their latest LOGIN event (one call each).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from portal.core.abuse_limits import AbuseLimits, LimitReached
from portal.core.authority import authorised_scopes
from portal.core.domain import Adherent, Change, Function, Person, Scope
from portal.core.errors import (
    InvitationNotSent,
    KeycloakRefused,
    KeycloakUnavailable,
    UnknownPerson,
)
from portal.core.keycloak.gateway import KeycloakGateway

#: Per-person reads (credentials, last sign-in) made at the same time.
PARALLEL_READS = 8

_log = logging.getLogger(__name__)


class State(StrEnum):
    NOT_INVITED = "non-invite"
    INVITED = "invite"
    EXPIRED = "invitation-expiree"
    ACTIVATED = "active"

    # An enum with French labels, shaped like domain.Function on purpose.
    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.NOT_INVITED: "Non invité",
    State.INVITED: "Invité",
    State.EXPIRED: "Invitation expirée",
    State.ACTIVATED: "Activé",
}


@dataclass(frozen=True)
class Account:
    """What Keycloak says about one person's client space."""

    person: Person
    activated_at: datetime | None
    last_login: datetime | None

    def state(self, now: datetime) -> State:
        if self.activated_at is not None:
            return State.ACTIVATED
        invitation = self.person.invitation
        if invitation is None:
            return State.NOT_INVITED
        return State.EXPIRED if invitation.expired(now) else State.INVITED


@dataclass(frozen=True)
class Line:
    """One collection contact of one SIREN/lot (a person with two lots has two lines)."""

    adherent: Adherent
    lot: str
    account: Account
    state: State

    @property
    def person(self) -> Person:
        return self.account.person

    @property
    def scope(self) -> Scope:
        return Scope(self.adherent.siren, self.lot)

    @property
    def principal(self) -> bool:
        return self.adherent.principal_id(self.lot) == self.person.id

    @property
    def activated(self) -> bool:
        return self.state is State.ACTIVATED

    def terms_accepted(self, current_version: str | None) -> bool:
        """Accepted the CGU in force (any version when the realm records none): an earlier
        version comes back at the next sign-in."""
        person = self.person
        return person.terms_accepted_at is not None and (
            current_version is None or person.terms_version == current_version
        )


@dataclass(frozen=True)
class LotSummary:
    lot: str
    contacts: int
    invited: int  # invited, link still valid, not activated yet
    expired: int  # invited, link expired, not activated
    not_invited: int
    activated: int
    terms_accepted: int

    @property
    def percent_activated(self) -> int:
        return round(100 * self.activated / self.contacts) if self.contacts else 0


@dataclass(frozen=True)
class FollowUp:
    groupement: str
    adherents: tuple[Adherent, ...]
    lines: tuple[Line, ...]
    current_terms_version: str | None

    @property
    def lots(self) -> tuple[str, ...]:
        found = {lot for adherent in self.adherents for lot in adherent.lots}
        found |= {line.lot for line in self.lines}
        return tuple(sorted(found, key=_lot_key))

    def lines_of(self, lot: str, not_activated: bool = False) -> list[Line]:
        return [
            line
            for line in self.lines
            if line.lot == lot and not (not_activated and line.activated)
        ]

    def without_contact(self, lot: str) -> list[Adherent]:
        """Adherents in this lot with no collection contact at all."""
        covered = {line.adherent.siren for line in self.lines if line.lot == lot}
        return [a for a in self.adherents if lot in a.lots and a.siren not in covered]

    def summary(self, lot: str) -> LotSummary:
        lines = self.lines_of(lot)

        def count(state: State) -> int:
            return sum(line.state is state for line in lines)

        return LotSummary(
            lot=lot,
            contacts=len(lines),
            invited=count(State.INVITED),
            expired=count(State.EXPIRED),
            not_invited=count(State.NOT_INVITED),
            activated=count(State.ACTIVATED),
            terms_accepted=sum(line.terms_accepted(self.current_terms_version) for line in lines),
        )

    def summaries(self) -> list[LotSummary]:
        return [self.summary(lot) for lot in self.lots]

    def to_reinvite(self) -> list[Person]:
        """Each collection contact not activated yet, once, by e-mail."""
        people = {line.person.id: line.person for line in self.lines if not line.activated}
        return sorted(people.values(), key=lambda person: person.email)


def _lot_key(lot: str) -> tuple[int, str]:
    return (int(lot), "") if lot.isdigit() else (1 << 30, lot)


def follow_up(
    gateway: KeycloakGateway, groupement: str, now: datetime | None = None
) -> FollowUp | None:
    """The groupement's follow-up, or None when it does not exist."""
    adherents = gateway.groupement_adherents(groupement)
    if adherents is None:
        return None
    now = now or datetime.now(UTC)
    # One read for the whole groupement (members, passwords, last sign-ins); None from a
    # Keycloak without that read: then the members of each adherent, and each person's reads.
    activations = gateway.groupement_activations(groupement, len(adherents))
    accounts: dict[str, Account] = {}
    contacts: list[tuple[Adherent, Person, list[str]]] = []
    for adherent in adherents:
        if activations is None:
            members = gateway.adherent_members(adherent)
        else:
            listed = activations.get(adherent.group_id, [])
            members = [person for person, _, _ in listed]
            accounts.update(
                (person.id, Account(person, activated_at, last_login))
                for person, activated_at, last_login in listed
            )
        for person in members:
            # Listed from the group: membership holds; the rule checks value and lot.
            scopes = authorised_scopes(person, Function.COLLECTE, {adherent.siren: adherent})
            lots = sorted((scope.lot for scope in scopes), key=_lot_key)
            if lots:  # technical or billing contacts only have no client space to follow
                contacts.append((adherent, person, lots))
    people = {person.id: person for _, person, _ in contacts if person.id not in accounts}
    # One or two small reads per person: a few at a time (measured with 300 people: 6 to 8 s one
    # by one, 2 to 5 s eight at a time; see the README).
    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        accounts.update(
            zip(people, pool.map(lambda p: _account(gateway, p), people.values()), strict=True)
        )
    lines = [
        Line(adherent, lot, accounts[person.id], accounts[person.id].state(now))
        for adherent, person, lots in contacts
        for lot in lots
    ]
    lines.sort(key=lambda line: (_lot_key(line.lot), line.adherent.siren, line.person.email))
    return FollowUp(groupement, tuple(adherents), tuple(lines), gateway.current_terms_version())


def _account(gateway: KeycloakGateway, person: Person) -> Account:
    activated_at = gateway.activated_at(person.id)
    # Without a password nobody signs in: no need to look for a sign-in.
    last_login = gateway.last_login(person.id) if activated_at else None
    return Account(person, activated_at, last_login)


# --- re-inviting everyone not activated yet ---------------------------------------------------


@dataclass(frozen=True)
class Reinvitations:
    """What re-sending the invitations of a groupement did, and how the staff member is told."""

    sent: int
    skipped: int  # over an abuse limit: nothing written, no mail
    failed: tuple[str, ...]  # e-mails of the people whose invitation was not sent
    limits: AbuseLimits

    def done_message(self) -> str:
        """« 3 invitations renvoyées. »"""
        plural = "s" if self.sent > 1 else ""
        return f"{self.sent} invitation{plural} renvoyée{plural}."

    def problems(self) -> list[str]:
        """What went wrong, one message each (none when all were sent)."""
        messages = []
        if self.skipped:
            messages.append(skipped_message(self.skipped, self.limits))
        if self.failed:
            messages.append(
                f"Invitations non envoyées ({len(self.failed)}) : {', '.join(self.failed)}."
            )
        return messages


def reinvite_all(
    gateway: KeycloakGateway,
    suivi: FollowUp,
    actor: str,
    redirect_uri: str,
    limits: AbuseLimits,
) -> Reinvitations:
    """A new invitation to each collection contact of the groupement not activated yet
    (:meth:`FollowUp.to_reinvite`), each recorded as made by ``actor``. One failure does not
    stop the others; Keycloak gone stops there, the rest counted as not sent."""
    sent, skipped, failed = 0, 0, []
    people = suivi.to_reinvite()
    for index, person in enumerate(people):
        change = Change.now(actor, f"relance de l'invitation (groupement {suivi.groupement})")
        try:
            # Per person and per actor: over either limit, the person is skipped (nothing
            # written, no mail) and the others still get theirs.
            with limits.invitation(person.id, actor).around():
                gateway.invite(person.id, redirect_uri, change)
        except LimitReached:
            skipped += 1
        except (InvitationNotSent, UnknownPerson, KeycloakRefused) as error:
            _log.warning("Invitation to %s not sent: %r", person.id, error)
            failed.append(person.email)
        except KeycloakUnavailable as error:
            _log.warning("Keycloak unavailable while re-sending: %r", error)
            failed += [p.email for p in people[index:]]
            break
        else:
            sent += 1
    return Reinvitations(sent, skipped, tuple(failed), limits)


def skipped_message(skipped: int, limits: AbuseLimits) -> str:
    """« 2 invitations non renvoyées : limite atteinte (…). »"""
    plural = "s" if skipped > 1 else ""
    return (
        f"{skipped} invitation{plural} non renvoyée{plural} : limite atteinte "
        f"({limits.reinvites_per_target.rate} par personne, "
        f"{limits.reinvites_per_actor.rate} par auteur de la relance). "
        "Réessayez plus tard pour ces personnes."
    )
