"""The CGU notice's markers in memory (production: the task queue's store, portal.web.notices)."""

from __future__ import annotations


class MemoryClaims:
    """:class:`portal.core.services.terms_notice.Claims` in a set; ``claimed``: already set."""

    def __init__(self, claimed: set[str] | None = None) -> None:
        self.keys = claimed if claimed is not None else set()

    def claim(self, key: str) -> bool:
        fresh = key not in self.keys
        self.keys.add(key)
        return fresh

    def release(self, key: str) -> None:
        self.keys.discard(key)

    def is_set(self, key: str) -> bool:
        return key in self.keys
