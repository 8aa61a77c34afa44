"""The one module that talks to the Keycloak Admin API.

Views never build Keycloak URLs or JSON: they call :func:`get_gateway` and get
domain objects (:class:`Person`) back, or :class:`KeycloakUnavailable` when
Keycloak cannot answer. Nothing here sets, reads or transmits a password.

Token reuse (checked in python-keycloak 7.1.1, ``keycloak/openid_connection.py``):
``KeycloakOpenIDConnection`` fetches a service-account token with the
client-credentials grant on the first call (a new connection has
``expires_at == now``), keeps it, and before every ``raw_get``/``raw_post``/
``raw_put``/``raw_delete`` calls ``_refresh_if_required``, which fetches a new
one only once 90 % of ``expires_in`` has passed (``token_lifetime_fraction``).
It also retries a request once after a new token if Keycloak answers 401.
Client-credentials tokens have no refresh token in Keycloak by default, so
"refresh" means a new client-credentials grant. One gateway is kept per
application (``app.extensions``), hence one token per worker process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from flask import current_app
from keycloak.exceptions import KeycloakConnectionError, KeycloakError

# Imported from their modules rather than from "keycloak": the repository's own
# keycloak/ folder (themes) makes ruff's isort take a bare "keycloak" for first-party.
from keycloak.keycloak_admin import KeycloakAdmin
from keycloak.openid_connection import KeycloakOpenIDConnection

_EXTENSION_KEY = "portal.gateway"
_creation_lock = threading.Lock()


class KeycloakUnavailable(Exception):
    """Keycloak could not be reached, timed out or answered with a server error (5xx)."""


@dataclass(frozen=True, slots=True)
class Person:
    """A person known to Keycloak (a Keycloak user of the ``collecte`` realm)."""

    id: str
    email: str
    first_name: str
    last_name: str
    enabled: bool
    email_verified: bool
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_representation(cls, data: Mapping[str, Any]) -> Person:
        """Build a person from a Keycloak ``UserRepresentation`` (JSON object)."""
        raw_attributes = data.get("attributes") or {}
        return cls(
            id=str(data["id"]),
            email=str(data.get("email") or ""),
            first_name=str(data.get("firstName") or ""),
            last_name=str(data.get("lastName") or ""),
            enabled=bool(data.get("enabled", False)),
            email_verified=bool(data.get("emailVerified", False)),
            attributes={
                str(name): tuple(str(value) for value in values)
                for name, values in raw_attributes.items()
            },
        )


@contextmanager
def _keycloak_errors() -> Iterator[None]:
    """Turn "Keycloak is down" errors into :class:`KeycloakUnavailable`.

    Other python-keycloak errors (4xx: bad request, forbidden, conflict...) are
    programming or configuration errors and propagate unchanged.
    """
    try:
        yield
    except KeycloakConnectionError as exc:
        raise KeycloakUnavailable("Keycloak is unreachable") from exc
    except KeycloakError as exc:
        if exc.response_code is not None and exc.response_code >= 500:
            raise KeycloakUnavailable(f"Keycloak answered HTTP {exc.response_code}") from exc
        raise


class KeycloakGateway:
    """Typed access to the Keycloak Admin API of one realm."""

    def __init__(self, admin: KeycloakAdmin) -> None:
        self._admin = admin

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KeycloakGateway:
        """Build a gateway authenticated as the ``ADMIN_CLIENT_ID`` service account."""
        connection = KeycloakOpenIDConnection(
            # python-keycloak joins relative paths to this URL: keep one trailing slash.
            server_url=str(config["KEYCLOAK_URL"]).rstrip("/") + "/",
            realm_name=config["KEYCLOAK_REALM"],
            client_id=config["ADMIN_CLIENT_ID"],
            client_secret_key=config["ADMIN_CLIENT_SECRET"],
            grant_type="client_credentials",
            timeout=int(config["KEYCLOAK_TIMEOUT"]),
            verify=True,
        )
        return cls(KeycloakAdmin(connection=connection))

    def find_person_by_email(self, email: str) -> Person | None:
        """Return the person whose e-mail is exactly ``email`` (case-insensitive), if any."""
        wanted = email.strip()
        if not wanted:
            return None
        with _keycloak_errors():
            users = self._admin.get_users(
                {"email": wanted, "exact": "true", "first": 0, "max": 2},
            )
        # Keycloak stores e-mails in lower case; the realm forbids duplicate e-mails,
        # so at most one user matches. Compare again rather than trust the search.
        for user in users:
            if str(user.get("email") or "").casefold() == wanted.casefold():
                return Person.from_representation(user)
        return None


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
