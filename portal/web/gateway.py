"""The application's Admin API gateway, one per Flask application, created on first use, and
its cache of page reads (:mod:`portal.core.keycloak.read_cache`).

The cache's generation lives in the sessions' store, which every worker and host of the portal
shares: Keycloak's notifications (``/auth/backchannel-changes``) and the portal's own writes
replace it there. Reads are cached during GET and HEAD requests only.
"""

from __future__ import annotations

import threading
from typing import cast

from flask import Flask, current_app, request

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


def get_gateway() -> KeycloakGateway:
    """Return the current application's gateway, creating it on first use."""
    extensions = current_app.extensions
    gateway = extensions.get(_EXTENSION_KEY)
    if gateway is None:
        with _creation_lock:
            gateway = extensions.get(_EXTENSION_KEY)
            if gateway is None:
                generation = changes()
                cache = read_cache.ReadCache(
                    generation.current, float(current_app.config["PAGE_CACHE_SECONDS"])
                )
                gateway = KeycloakGateway.from_config(
                    current_app.config, cache=cache, on_write=generation.bump
                )
                extensions[_EXTENSION_KEY] = gateway
    return cast(KeycloakGateway, gateway)
