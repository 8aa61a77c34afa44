"""The read cache on its own: an entry is served only under the generation it was read with,
within its time, and only where caching is allowed (a GET request)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.core.keycloak.read_cache import GENERATION_KEY, Generation, ReadCache, allow


class DictStore:
    """The shared store's API (cachelib's get/set/add) over a dict."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def get(self, key: str) -> object:
        return self.values.get(key)

    def set(self, key: str, value: object, timeout: int | None = None) -> object:
        self.values[key] = value
        return True

    def add(self, key: str, value: object, timeout: int | None = None) -> object:
        return self.values.setdefault(key, value) is value


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def generation() -> Generation:
    return Generation(DictStore())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(generation: Generation, clock: Clock) -> ReadCache:
    return ReadCache(generation.current, seconds=60, max_entries=3, clock=clock)


@pytest.fixture
def allowed() -> Iterator[None]:
    with allow():
        yield


class Loads:
    """A loader counting its calls, each answering a new value."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return self.count


def test_a_read_is_served_again_until_the_realm_changes(
    cache: ReadCache, generation: Generation, allowed: None
) -> None:
    load = Loads()
    assert cache.read("personne", load) == 1
    assert cache.read("personne", load) == 1
    generation.bump()
    assert cache.read("personne", load) == 2
    assert load.count == 2


def test_a_read_that_started_before_a_change_is_never_served(
    cache: ReadCache, generation: Generation, allowed: None
) -> None:
    """Keycloak's answer may predate a change acknowledged while it was on its way."""

    def load_during_a_change() -> str:
        generation.bump()
        return "lu avant le changement"

    assert cache.read("personne", load_during_a_change) == "lu avant le changement"
    assert cache.read("personne", lambda: "relu") == "relu"


def test_a_value_that_may_change_unnoticed_is_read_at_each_request(
    cache: ReadCache, allowed: None
) -> None:
    """A lock in force ends by time, which nobody notifies: ``keep`` refuses to keep it."""
    load = Loads()

    def unlocked_from_the_third(value: int) -> bool:
        return value >= 3

    assert [cache.read("acces", load, keep=unlocked_from_the_third) for _ in range(4)] == [
        1,
        2,
        3,
        3,
    ]


def test_an_entry_expires_even_without_a_notification(
    cache: ReadCache, clock: Clock, allowed: None
) -> None:
    load = Loads()
    cache.read("personne", load)
    clock.now += 59
    assert cache.read("personne", load) == 1
    clock.now += 2
    assert cache.read("personne", load) == 2


def test_nothing_is_cached_outside_a_read_only_request(cache: ReadCache) -> None:
    load = Loads()
    cache.read("personne", load)
    assert cache.read("personne", load) == 2
    assert len(cache) == 0


def test_zero_seconds_turns_the_cache_off(generation: Generation, allowed: None) -> None:
    cache = ReadCache(generation.current, seconds=0)
    load = Loads()
    cache.read("personne", load)
    assert cache.read("personne", load) == 2


def test_the_oldest_entries_go_beyond_the_limit(cache: ReadCache, allowed: None) -> None:
    loads = {key: Loads() for key in "abcd"}
    for key in "abc":
        cache.read(key, loads[key])
    cache.read("a", loads["a"])  # used again: now the newest
    cache.read("d", loads["d"])
    assert len(cache) == 3
    cache.read("a", loads["a"])
    cache.read("b", loads["b"])
    assert (loads["a"].count, loads["b"].count) == (1, 2)


def test_the_generation_is_shared_through_the_store() -> None:
    store = DictStore()
    one, other = Generation(store), Generation(store)
    assert one.current() == other.current() != ""
    before = one.current()
    other.bump()
    assert one.current() != before
    assert store.values[GENERATION_KEY] == one.current()
