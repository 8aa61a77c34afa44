"""Page reads kept in memory until Keycloak says something changed (issue 14).

A page's read of Keycloak (a person with their groups, roles and adherent's members; the list of
groupements) is kept in this process, keyed by what was asked **and by the realm's change
generation** read just before asking Keycloak. The generation is an opaque random value kept in a
store every portal process and host shares (the sessions' store); it is replaced:

- by Keycloak itself, after it committed any change — the admin console, a coordinator, a
  user completing an action on the login pages, the tooling — through our event listener
  ``ChangeNotifier``, which POSTs a realm-signed token to ``/auth/backchannel-changes`` before
  Keycloak answers the request that made the change;
- by the portal after each of its own writes to the Admin API: those carry the header
  ``X-Collecte-Changes-Marked`` and the listener skips them (a portal worker waiting for
  Keycloak's answer would otherwise wait for a portal worker).

An entry is used only while the generation it was read under is still the current one, so a
page never shows what was read before a change that has been acknowledged. A read that started
before a change and ends after it is stored under the old generation and never served. Entries
also expire after ``seconds`` (a safety net should a notification be lost: Keycloak logs it) and
the oldest are dropped beyond ``max_entries``.

Only reads made while :func:`allow` is on are cached: the web layer turns it on for GET and
HEAD requests only, so that a write path — a POST — always decides on what Keycloak says now.
What changes without any notified change is not kept: a lock in force (it ends by time). The
last sign-ins (LOGIN events are not notified) may lag by up to ``seconds`` on the follow-up page
and the support diagnosis.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol, TypeVar

T = TypeVar("T")

#: Key of the generation in the shared store.
GENERATION_KEY = "collecte-changes:generation"

_allowed: ContextVar[bool] = ContextVar("collecte_read_cache_allowed", default=False)


class SharedStore(Protocol):
    """What the generation needs of a store shared by every portal process (cachelib's API)."""

    def get(self, key: str) -> object: ...

    def set(self, key: str, value: object, timeout: int | None = None) -> object: ...

    def add(self, key: str, value: object, timeout: int | None = None) -> object: ...


class Generation:
    """The realm's change generation in the shared store."""

    def __init__(self, store: SharedStore) -> None:
        self._store = store

    def current(self) -> str:
        value = self._store.get(GENERATION_KEY)
        if isinstance(value, str):
            return value
        # First use (or the store was emptied): any fresh value will do, and only one wins.
        self._store.add(GENERATION_KEY, secrets.token_hex(16), timeout=0)
        value = self._store.get(GENERATION_KEY)
        return value if isinstance(value, str) else ""

    def bump(self) -> None:
        """Something changed in the realm: what was read before is not to be used again."""
        # A new random value rather than a counter: no read-modify-write, never a value seen before.
        self._store.set(GENERATION_KEY, secrets.token_hex(16), timeout=0)


@contextmanager
def allow() -> Iterator[None]:
    """Let reads in this context (one web request) use the cache."""
    token = _allowed.set(True)
    try:
        yield
    finally:
        _allowed.reset(token)


def set_allowed(allowed: bool) -> None:
    """Turn caching on or off for the rest of this context (the web layer's before_request)."""
    _allowed.set(allowed)


class ReadCache:
    """Reads of this process, each kept under the generation it was read with."""

    def __init__(
        self,
        generation: Callable[[], str],
        seconds: float,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._generation = generation
        self._seconds = seconds
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[str, float, object]] = OrderedDict()

    def read(
        self, key: Hashable, load: Callable[[], T], keep: Callable[[T], bool] | None = None
    ) -> T:
        """The value kept for ``key`` under the current generation, else ``load()``'s, kept
        unless ``keep`` says it may change unnoticed (then read again at each request)."""
        if not _allowed.get() or self._seconds <= 0:
            return load()
        generation = self._generation()  # before asking Keycloak: see the module docstring
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == generation and entry[1] > now:
                self._entries.move_to_end(key)
                return entry[2]  # type: ignore[return-value]  # stored by load() for this key
        value = load()
        if keep is not None and not keep(value):
            with self._lock:
                self._entries.pop(key, None)
            return value
        with self._lock:
            self._entries[key] = (generation, now + self._seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)
