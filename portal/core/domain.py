"""Small domain objects the portal works with; the gateway builds them from Keycloak JSON.

How they live in Keycloak (see README, « Modèle d'identité ») :
- a person is a user; each function is a multivalued attribute of `SIREN/lot` values;
- an adherent is the group `/<groupement>/<SIREN>`, whose attribute `principal.<lot>` names the
  principal collection contact of each lot, written once;
- a request for a new collection contact is kept on the proposed person, as a JSON record in
  `demandesCollecte`, indexed by `SIREN/lot` in `demandeCollecteSur` for searching.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from portal.core.keycloak import schema

# The patterns are re-exported for the modules that read SIRENs and lots from Keycloak.
from portal.core.validation import LOT_PATTERN, SIREN_PATTERN, parse_scope

__all__ = ["LOT_PATTERN", "SIREN_PATTERN"]


class Function(StrEnum):
    # The values are the names of the user attributes holding each function.
    COLLECTE = schema.COLLECTION
    TECHNIQUE = schema.TECHNICAL
    FACTURATION = schema.BILLING

    @property
    def label(self) -> str:
        return FUNCTION_LABELS[self]


FUNCTION_LABELS = {
    Function.COLLECTE: "Interlocuteur de collecte",
    Function.TECHNIQUE: "Interlocuteur technique",
    Function.FACTURATION: "Interlocuteur de facturation",
}
#: The functions a member manages themselves; neither gives access to the platform.
NON_LOGIN_FUNCTIONS = (Function.TECHNIQUE, Function.FACTURATION)


@dataclass(frozen=True, order=True)
class Scope:
    """One SIREN and one lot of the contract: what a function applies to."""

    siren: str
    lot: str

    def __str__(self) -> str:
        return f"{self.siren}/{self.lot}"

    @classmethod
    def parse(cls, value: str) -> Scope | None:
        """The scope written ``"SIREN/lot"`` (:func:`portal.core.validation.parse_scope`)."""
        parsed = parse_scope(value)
        return cls(*parsed) if parsed else None


@dataclass(frozen=True)
class Change:
    """Who made the last change to a record, and when."""

    by: str
    at: datetime
    what: str

    def to_json(self) -> str:
        return json.dumps({"par": self.by, "le": self.at.isoformat(), "quoi": self.what})

    @classmethod
    def now(cls, by: str, what: str) -> Change:
        return cls(by, datetime.now(UTC).replace(microsecond=0), what)

    @classmethod
    def from_json(cls, value: str) -> Change | None:
        try:
            data = json.loads(value)
            return cls(str(data["par"]), datetime.fromisoformat(data["le"]), str(data["quoi"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class ContactDetails:
    """What a member types about a contact (already validated and normalized)."""

    last_name: str
    first_name: str
    email: str
    phone_fixe: str | None
    phone_mobile: str | None


class RequestStatus(StrEnum):
    PENDING = "en-attente"
    ACCEPTED = "acceptee"
    REFUSED = "refusee"

    @property
    def label(self) -> str:
        return {"en-attente": "En attente", "acceptee": "Acceptée", "refusee": "Refusée"}[self]


@dataclass(frozen=True)
class CollectionRequest:
    """A request that someone become a collection contact for one SIREN/lot: a member's, or,
    ``without_account``, the person's own through the public form (``requested_by`` is then
    their own address, typed by someone not signed in: support checks it with the
    coordinator before accepting)."""

    id: str
    scope: Scope
    requested_by: str
    requested_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    reason: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None
    without_account: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "perimetre": str(self.scope),
                "demandeur": self.requested_by,
                "le": self.requested_at.isoformat(),
                "statut": self.status.value,
                "motif": self.reason,
                "traitePar": self.decided_by,
                "traiteLe": self.decided_at.isoformat() if self.decided_at else "",
                **({"sansCompte": True} if self.without_account else {}),
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, value: str) -> CollectionRequest | None:
        try:
            data = json.loads(value)
            scope = Scope.parse(data["perimetre"])
            if scope is None:
                return None
            return cls(
                id=str(data["id"]),
                scope=scope,
                requested_by=str(data["demandeur"]),
                requested_at=datetime.fromisoformat(data["le"]),
                status=RequestStatus(data["statut"]),
                reason=str(data.get("motif") or ""),
                decided_by=str(data.get("traitePar") or ""),
                decided_at=datetime.fromisoformat(data["traiteLe"])
                if data.get("traiteLe")
                else None,
                without_account=data.get("sansCompte") is True,
            )
        except (ValueError, KeyError, TypeError):
            return None

    def decided(self, status: RequestStatus, by: str, reason: str = "") -> CollectionRequest:
        return replace(
            self, status=status, reason=reason, decided_by=by, decided_at=datetime.now(UTC)
        )


#: Attributes recording the last invitation sent (epoch seconds), read by the Keycloak extension
#: that refuses older invitation links.
INVITATION_SENT = schema.INVITATION_SENT
INVITATION_EXPIRES = schema.INVITATION_EXPIRES
#: The CGU version a person accepted last (user attribute) and the version in force (realm
#: attribute), both written by Keycloak's side: our required action and the provisioning.
TERMS_VERSION = schema.TERMS_ACCEPTED_VERSION
CURRENT_TERMS_VERSION = schema.TERMS_CURRENT_VERSION


def _from_epoch(value: str) -> datetime:
    return datetime.fromtimestamp(int(value), UTC)


@dataclass(frozen=True)
class Person:
    """A person known to the platform (a Keycloak user of realm `collecte`)."""

    id: str
    email: str
    first_name: str
    last_name: str
    enabled: bool = True
    email_verified: bool = False
    phone_fixe: str | None = None
    phone_mobile: str | None = None
    functions: Mapping[Function, frozenset[Scope]] = field(default_factory=dict)
    terms_accepted_at: datetime | None = None
    terms_version: str | None = None  # None: accepted before versions were recorded, or never
    last_change: Change | None = None
    requests: tuple[CollectionRequest, ...] = ()
    required_actions: tuple[str, ...] = ()
    invitation: Invitation | None = None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def scopes(self, function: Function) -> frozenset[Scope]:
        return self.functions.get(function, frozenset())

    def holds(self, function: Function, scope: Scope) -> bool:
        return scope in self.scopes(function)

    @property
    def all_sirens(self) -> frozenset[str]:
        return frozenset(scope.siren for scopes in self.functions.values() for scope in scopes)

    @classmethod
    def from_representation(cls, data: Mapping[str, Any]) -> Person:
        attributes: Mapping[str, list[str]] = data.get("attributes") or {}

        def first(name: str) -> str | None:
            values = attributes.get(name) or []
            return str(values[0]) if values else None

        functions = {
            function: frozenset(
                scope
                for value in attributes.get(function.value, [])
                if (scope := Scope.parse(value))
            )
            for function in Function
        }
        accepted = first(schema.TERMS_ACCEPTED_AT)
        change = first(schema.LAST_CHANGE)
        sent, expires = first(INVITATION_SENT), first(INVITATION_EXPIRES)
        return cls(
            id=str(data["id"]),
            email=str(data.get("email") or ""),
            first_name=str(data.get("firstName") or ""),
            last_name=str(data.get("lastName") or ""),
            enabled=bool(data.get("enabled", False)),
            email_verified=bool(data.get("emailVerified", False)),
            phone_fixe=first(schema.PHONE_FIXED),
            phone_mobile=first(schema.PHONE_MOBILE),
            functions=functions,
            terms_accepted_at=(
                datetime.fromtimestamp(int(accepted), UTC)
                if accepted and accepted.isdigit()
                else None
            ),
            terms_version=first(TERMS_VERSION),
            last_change=Change.from_json(change) if change else None,
            requests=tuple(
                request
                for value in attributes.get(schema.REQUESTS, [])
                if (request := CollectionRequest.from_json(value))
            ),
            required_actions=tuple(data.get("requiredActions") or ()),
            invitation=(
                Invitation(_from_epoch(sent), _from_epoch(expires)) if sent and expires else None
            ),
        )


@dataclass(frozen=True)
class Adherent:
    """A member organisation of a groupement, identified by its SIREN."""

    group_id: str
    siren: str
    name: str
    groupement: str
    lots: tuple[str, ...]
    principals: Mapping[str, str] = field(default_factory=dict)  # lot → person id

    def principal_id(self, lot: str) -> str | None:
        return self.principals.get(lot)


@dataclass(frozen=True)
class ScopeContacts:
    """Everyone attached to one SIREN/lot, as a member's space shows them."""

    scope: Scope
    adherent: Adherent | None
    principal: Person | None
    collection: tuple[Person, ...]
    technical: tuple[Person, ...]
    billing: tuple[Person, ...]
    requests: tuple[tuple[Person, CollectionRequest], ...]
    # Ids of the listed people whose names and phones the viewer may see and edit; the others
    # are known elsewhere and shown by e-mail only (portal.core.authority, « remit »).
    editable: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Invitation:
    """The last invitation e-mail sent to a person, as recorded on them."""

    sent_at: datetime
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.expires_at


@dataclass(frozen=True)
class Diagnosis:
    """Why a person can or cannot sign in, each condition with its date where one exists."""

    email: str
    person: Person | None
    activated_at: datetime | None = None  # when the person chose their password
    locked: bool = False
    locked_until: datetime | None = None  # at the latest (Keycloak's longest wait)
    pending_actions: tuple[str, ...] = ()
    last_login: datetime | None = None
    invitation: Invitation | None = None
    is_staff: bool = False
    current_terms_version: str | None = None  # None: the realm records no version
    # SIREN → adherent group the person is a member of (see portal.core.authority)
    memberships: Mapping[str, Adherent] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.person is not None

    @property
    def collection_scopes(self) -> tuple[Scope, ...]:
        """The SIREN/lots where the person is a collection contact under the authority rule."""
        # Imported here: portal.core.authority builds on this module.
        from portal.core.authority import authorised_scopes

        if self.person is None:
            return ()
        return tuple(sorted(authorised_scopes(self.person, Function.COLLECTE, self.memberships)))

    @property
    def terms_outdated(self) -> bool:
        """Accepted, but not the version in force: the CGU come back at the next sign-in."""
        person, current = self.person, self.current_terms_version
        return bool(
            person and person.terms_accepted_at and current and person.terms_version != current
        )

    @property
    def can_sign_in(self) -> bool:
        person = self.person
        return bool(
            person
            and person.enabled
            and (self.collection_scopes or self.is_staff)
            and self.activated_at
            and person.email_verified
            and person.terms_accepted_at
            and not self.terms_outdated
            and not self.locked
            and not self.pending_actions
        )


@dataclass(frozen=True)
class AccountSession:
    """One of a person's Keycloak sessions (a sign-in on a browser), as « Mon compte » lists it."""

    id: str
    ip_address: str
    started_at: datetime
    last_access_at: datetime
    clients: tuple[str, ...]  # the applications it signed in to


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change: who, when, what, on whom."""

    at: datetime
    by: str
    what: str
    target: str
