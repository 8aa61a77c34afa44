"""The pages' change generation of a running portal, seen from the tests (the store its
processes share: its sessions' folder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cachelib import FileSystemCache

from portal.core.keycloak.read_cache import Generation


def generation(portal_config: Mapping[str, Any]) -> Generation:
    return Generation(FileSystemCache(portal_config["SESSION_FILE_DIR"]))


def realm_changed(portal_config: Mapping[str, Any]) -> None:
    """What a change notification does: every page reads Keycloak again."""
    generation(portal_config).bump()
