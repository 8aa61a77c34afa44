"""The pages' change generation of a running portal, seen from the tests (the store its
processes share: its sessions' folder, or Redis in the production topology)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cachelib import BaseCache, FileSystemCache, RedisCache

from portal.core.keycloak.read_cache import Generation


def _shared_store(portal_config: Mapping[str, Any]) -> BaseCache:
    if portal_config.get("SESSION_REDIS_URL"):
        from redis import Redis

        return RedisCache(host=Redis.from_url(portal_config["SESSION_REDIS_URL"]), key_prefix="")
    return FileSystemCache(portal_config["SESSION_FILE_DIR"])


def generation(portal_config: Mapping[str, Any]) -> Generation:
    return Generation(_shared_store(portal_config))


def realm_changed(portal_config: Mapping[str, Any]) -> None:
    """What a change notification does: every page reads Keycloak again."""
    generation(portal_config).bump()
