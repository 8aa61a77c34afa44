"""Abuse limits: how often a member may ask for a new collection contact, how often an
invitation may be sent again, per actor and per target, and how often anyone may ask for the
sign-in diagnosis by mail or make a « demande sans compte », per address and per client.

Counters are kept by the ``limits`` library (the engine of Flask-Limiter) with a *moving
window*: « 3 per 24 hours » means at most 3 in any 24 hours, not 3 per calendar day. Where they
live is a storage URI (``RATE_LIMIT_STORAGE_URI``): ``memory://`` (the default: one process, the
tests and the dev run) or a shared store such as ``redis://host:6379/1`` so that several portal
hosts, or several workers of one host, count together.

Only actions that succeed are counted: :meth:`AbuseLimits.guard` checks every limit before the
action (a refusal writes nothing and sends nothing) and counts once the action is done. A
failure on Keycloak's or the mail's side is then not held against the member, at the price that
two requests racing at the last unit may both pass (one over the limit at most per racing
request). A plain « hit first » would have counted failures, and the library has no refund.

Identifiers are hashed before they reach the store: a shared Redis then holds no e-mail
addresses. The limit depends only on what the user typed (the e-mail, never whether an account
has it), so a refusal says nothing about which addresses are known.

This module is Flask-free: the services receive an :class:`AbuseLimits`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from portal.core.dates import date_paris
from portal.core.errors import LimitReached as LimitReached  # re-exported: importers keep working

#: Where the application keeps its :class:`AbuseLimits` (``app.extensions``).
EXTENSION_KEY = "collecte.abuse_limits"

#: Configuration keys (``COLLECTE_<key>`` in the environment) and the limits they set.
STORAGE_KEY = "RATE_LIMIT_STORAGE_URI"
SETTINGS = (
    "RATE_LIMIT_REQUESTS_PER_MEMBER",
    "RATE_LIMIT_REQUESTS_PER_TARGET",
    "RATE_LIMIT_REINVITES_PER_TARGET",
    "RATE_LIMIT_REINVITES_PER_ACTOR",
    "RATE_LIMIT_SELF_HELP_PER_ADDRESS",
    "RATE_LIMIT_SELF_HELP_PER_CLIENT",
    "RATE_LIMIT_ACCOUNTLESS_PER_ADDRESS",
    "RATE_LIMIT_ACCOUNTLESS_PER_CLIENT",
)

#: How the French messages name each unit of time (singular, plural).
_UNITS = {
    "second": ("seconde", "secondes"),
    "minute": ("minute", "minutes"),
    "hour": ("heure", "heures"),
    "day": ("jour", "jours"),
    "month": ("mois", "mois"),
    "year": ("an", "ans"),
}


@dataclass(frozen=True)
class Limit:
    """One limit: a namespace in the store, its rate, and the French sentence that says it
    (``{rate}`` is « 3 par 24 heures »)."""

    name: str
    item: RateLimitItem
    sentence: str

    @property
    def rate(self) -> str:
        return rate_text(self.item)


def rate_text(item: RateLimitItem) -> str:
    """« 3 par 24 heures », « 50 par heure »."""
    singular, plural = _UNITS.get(item.GRANULARITY.name, (item.GRANULARITY.name,) * 2)
    per = f"par {singular}" if item.multiples == 1 else f"par {item.multiples} {plural}"
    return f"{item.amount} {per}"


def _hashed(identifier: str) -> str:
    return hashlib.sha256(identifier.strip().casefold().encode()).hexdigest()


class AbuseLimits:
    def __init__(
        self,
        storage_uri: str,
        *,
        requests_per_member: str,
        requests_per_target: str,
        reinvites_per_target: str,
        reinvites_per_actor: str,
        self_help_per_address: str = "3 per hour",
        self_help_per_client: str = "20 per hour",
        accountless_per_address: str = "2 per day",
        accountless_per_client: str = "5 per hour",
    ) -> None:
        self.storage_uri = storage_uri
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.requests_per_member = Limit(
            "demande-par-membre",
            parse(requests_per_member),
            "Vous avez atteint le nombre maximal de demandes d’interlocuteur de collecte "
            "({rate} au plus) : rien n’a été enregistré.",
        )
        self.requests_per_target = Limit(
            "demande-par-adresse",
            parse(requests_per_target),
            "Trop de demandes pour cette adresse ({rate} au plus) : rien n’a été enregistré.",
        )
        self.reinvites_per_target = Limit(
            "invitation-par-personne",
            parse(reinvites_per_target),
            "Trop d’invitations envoyées à cette personne ({rate} au plus) : aucune "
            "invitation n’a été envoyée.",
        )
        self.reinvites_per_actor = Limit(
            "invitation-par-auteur",
            parse(reinvites_per_actor),
            "Vous avez renvoyé trop d’invitations ({rate} au plus) : aucune invitation n’a "
            "été envoyée.",
        )
        # One sentence for both: a refusal must not tell which limit, nor anything about the
        # address.
        busy = (
            "Trop de demandes d’aide à la connexion ({rate} au plus) : aucune n’a été enregistrée."
        )
        self.self_help_per_address = Limit("aide-par-adresse", parse(self_help_per_address), busy)
        self.self_help_per_client = Limit("aide-par-client", parse(self_help_per_client), busy)
        crowded = "Trop de demandes sans compte ({rate} au plus) : aucune n’a été enregistrée."
        self.accountless_per_address = Limit(
            "sans-compte-par-adresse", parse(accountless_per_address), crowded
        )
        self.accountless_per_client = Limit(
            "sans-compte-par-client", parse(accountless_per_client), crowded
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AbuseLimits:
        """Raises ValueError for a limit that cannot be read, ``limits``'
        ConfigurationError for an unknown store or a missing client library."""
        values = {key: config.get(key) for key in (STORAGE_KEY, *SETTINGS)}
        for key, value in values.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{key} must be a non-empty string.")
        return cls(
            str(values[STORAGE_KEY]),
            requests_per_member=str(values["RATE_LIMIT_REQUESTS_PER_MEMBER"]),
            requests_per_target=str(values["RATE_LIMIT_REQUESTS_PER_TARGET"]),
            reinvites_per_target=str(values["RATE_LIMIT_REINVITES_PER_TARGET"]),
            reinvites_per_actor=str(values["RATE_LIMIT_REINVITES_PER_ACTOR"]),
            self_help_per_address=str(values["RATE_LIMIT_SELF_HELP_PER_ADDRESS"]),
            self_help_per_client=str(values["RATE_LIMIT_SELF_HELP_PER_CLIENT"]),
            accountless_per_address=str(values["RATE_LIMIT_ACCOUNTLESS_PER_ADDRESS"]),
            accountless_per_client=str(values["RATE_LIMIT_ACCOUNTLESS_PER_CLIENT"]),
        )

    # --- the actions -------------------------------------------------------------------

    def collection_request(self, member_id: str, target_email: str) -> Guard:
        """A member (their Keycloak id) asks for ``target_email`` as a collection contact."""
        return Guard(
            self,
            ((self.requests_per_member, member_id), (self.requests_per_target, target_email)),
        )

    def invitation(self, target_id: str, actor: str | None = None) -> Guard:
        """An invitation sent on demand to the person ``target_id``; ``actor``: who re-sends it
        (a re-send also counts against them; an invitation that comes with a grant does not)."""
        keyed = [(self.reinvites_per_target, target_id)]
        if actor is not None:
            keyed.append((self.reinvites_per_actor, actor))
        return Guard(self, tuple(keyed))

    def self_help(self, email: str, client: str) -> Guard:
        """« Je ne parviens pas à me connecter » for the typed ``email``, from ``client``."""
        return Guard(
            self, ((self.self_help_per_address, email), (self.self_help_per_client, client))
        )

    def accountless_request(self, email: str, client: str) -> Guard:
        """« Demande sans compte » for the typed ``email``, from ``client``."""
        return Guard(
            self,
            ((self.accountless_per_address, email), (self.accountless_per_client, client)),
        )

    # --- the store -------------------------------------------------------------------------

    def check(self, keyed: tuple[tuple[Limit, str], ...]) -> None:
        """LimitReached for the first limit with nothing left, else nothing."""
        for limit, identifier in keyed:
            key = (limit.name, _hashed(identifier))
            if not self._limiter.test(limit.item, *key):
                reset = self._limiter.get_window_stats(limit.item, *key).reset_time
                # The oldest action leaves the window just after ``reset``; the message shows
                # minutes, so the next whole minute after it (never a time still refused).
                retry_at = datetime.fromtimestamp(math.floor(reset / 60 + 1) * 60, UTC)
                message = (
                    f"{limit.sentence.format(rate=limit.rate)} "
                    f"Réessayez à partir du {date_paris(retry_at)}."
                )
                raise LimitReached(message, retry_at)

    def count(self, keyed: tuple[tuple[Limit, str], ...]) -> None:
        for limit, identifier in keyed:
            # False when a racing action took the last unit meanwhile: this one is done anyway.
            self._limiter.hit(limit.item, limit.name, _hashed(identifier))


@dataclass(frozen=True)
class Guard:
    """The limits of one action: :meth:`check` before it, :meth:`count` once it succeeded; or
    ``with guard.around():`` for both."""

    limits: AbuseLimits
    keyed: tuple[tuple[Limit, str], ...]

    def check(self) -> None:
        self.limits.check(self.keyed)

    def count(self) -> None:
        self.limits.count(self.keyed)

    @contextmanager
    def around(self) -> Iterator[None]:
        """Check, run the block, count only if it raised nothing."""
        self.check()
        yield
        self.count()
