"""The application's Admin API gateway, one per Flask application, created on first use, and
its cache of page reads (:mod:`portal.core.keycloak.read_cache`).

The cache's generation lives in the sessions' store, which every worker and host of the portal
shares: Keycloak's notifications (``/auth/backchannel-changes``) and the portal's own writes
replace it there. Reads are cached during GET and HEAD requests only.
"""

from __future__ import annotations

import threading
from typing import cast

from flask import Flask, current_app, g, has_app_context, request

from portal.core.keycloak import read_cache
from portal.core.keycloak.gateway import KeycloakGateway
from portal.web import sessions

_EXTENSION_KEY = "portal.gateway"
_creation_lock = threading.Lock()


def init_app(app: Flask) -> None:
    """Page reads may be cached while the request only reads (GET, HEAD)."""

    @app.before_request
    def reads_may_be_cached() -> None:
        read_cache.set_allowed(request.method in ("GET", "HEAD"))

    @app.teardown_request
    def reads_fresh_again(_: BaseException | None) -> None:
        read_cache.set_allowed(False)


def changes() -> read_cache.Generation:
    """The realm's change generation, in the store the portal's processes share."""
    return read_cache.Generation(sessions.store())


class RequestGeneration:
    """The realm's change generation read once per request (a page makes several reads; each
    read of the shared store is a file or a Redis round trip), read again after a write."""

    _KEY = "collecte_changes_generation"

    def __init__(self, generation: read_cache.Generation) -> None:
        self._generation = generation

    def current(self) -> str:
        if not has_app_context():
            return self._generation.current()
        value = g.get(self._KEY)
        if not isinstance(value, str):
            value = self._generation.current()
            setattr(g, self._KEY, value)
        return value

    def bump(self) -> None:
        self._generation.bump()
        if has_app_context():
            g.pop(self._KEY, None)


def get_gateway() -> KeycloakGateway:
    """Return the current application's gateway, creating it on first use."""
    extensions = current_app.extensions
    gateway = extensions.get(_EXTENSION_KEY)
    if gateway is None:
        with _creation_lock:
            gateway = extensions.get(_EXTENSION_KEY)
            if gateway is None:
                generation = RequestGeneration(changes())
                cache = read_cache.ReadCache(
                    generation.current, float(current_app.config["PAGE_CACHE_SECONDS"])
                )
                gateway = KeycloakGateway.from_config(
                    current_app.config, cache=cache, on_write=generation.bump
                )
                extensions[_EXTENSION_KEY] = gateway
    return cast(KeycloakGateway, gateway)
