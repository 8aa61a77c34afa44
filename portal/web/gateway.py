"""The application's Admin API gateway, one per Flask application, created on first use."""

from __future__ import annotations

import threading
from typing import cast

from flask import current_app

from portal.core.keycloak.gateway import KeycloakGateway

_EXTENSION_KEY = "portal.gateway"
_creation_lock = threading.Lock()


def get_gateway() -> KeycloakGateway:
    """Return the current application's gateway, creating it on first use."""
    extensions = current_app.extensions
    gateway = extensions.get(_EXTENSION_KEY)
    if gateway is None:
        with _creation_lock:
            gateway = extensions.get(_EXTENSION_KEY)
            if gateway is None:
                gateway = KeycloakGateway.from_config(current_app.config)
                extensions[_EXTENSION_KEY] = gateway
    return cast(KeycloakGateway, gateway)
