"""The Admin API connection of one realm: how it is made from the configuration, how its errors
are translated, and the few raw calls python-keycloak has no method for (one paginator).

Errors: python-keycloak's exceptions never leave the adapter. :func:`keycloak_errors` turns
"Keycloak is down" (no connection, timeout, 5xx) into :class:`KeycloakUnavailable` and any other
refusal (4xx) into :class:`KeycloakRefused`, which keeps Keycloak's status and body so that the
adapter can give a 404 or a 409 its meaning (an unknown person, an e-mail already taken).

Token reuse (checked in python-keycloak 7.1.1, ``keycloak/openid_connection.py``):
``KeycloakOpenIDConnection`` fetches a service-account token with the client-credentials grant
on the first call (a new connection has ``expires_at == now``), keeps it, and before every
``raw_get``/``raw_post``/``raw_put``/``raw_delete`` calls ``_refresh_if_required``, which fetches
a new one only once 90 % of ``expires_in`` has passed (``token_lifetime_fraction``). It also
retries a request once after a new token if Keycloak answers 401. Client-credentials tokens have
no refresh token in Keycloak by default, so "refresh" means a new client-credentials grant.

Threads: python-keycloak takes no lock around that refresh; every thread that sees the token
expired would fetch its own and write ``token``, ``expires_at`` and the Authorization header one
after the other. :class:`SharedConnection` serialises the refresh, so one thread fetches the new
token and the others, once they get the lock, find it fresh. The HTTP calls themselves go through
one ``requests.Session``, whose connection pool (urllib3) is thread-safe; the session's headers
dict is only written by that (locked) refresh, which replaces the value of an existing key.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from keycloak.exceptions import (
    KeycloakConnectionError,
    KeycloakDeleteError,
    KeycloakError,
    KeycloakGetError,
    KeycloakPostError,
    KeycloakPutError,
    raise_error_from_response,
)

# Imported from their modules rather than from "keycloak": the repository's own
# keycloak/ folder (themes) makes ruff's isort take a bare "keycloak" for first-party.
from keycloak.keycloak_admin import KeycloakAdmin
from keycloak.openid_connection import KeycloakOpenIDConnection
from requests import Response

from portal.core.errors import KeycloakRefused, KeycloakUnavailable
from portal.core.keycloak import lazy_async

lazy_async.install()  # python-keycloak's unused async client, not built (3.5 MiB per worker)

#: Page size of the Admin API lists read in full (members, children, users).
PAGE = 100


#: Sent with every Admin API call of a portal that marks its own changes (``on_write``):
#: Keycloak's ``ChangeNotifier`` then does not call that portal back about them.
CHANGES_MARKED_HEADER = "X-Collecte-Changes-Marked"


def _nothing() -> None:
    """No one to tell about a write (tooling without a read cache)."""


class SharedConnection(KeycloakOpenIDConnection):
    """python-keycloak's connection, its token refresh made safe for threads sharing it, and
    ``on_write`` called after each call that may write (POST, PUT, DELETE), whatever its
    outcome: a timeout may hide a change that was committed."""

    def __init__(self, on_write: Callable[[], None] = _nothing, **kwargs: Any) -> None:
        self._refresh_lock = threading.Lock()
        self._on_write = on_write
        super().__init__(**kwargs)

    def raw_post(self, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().raw_post(*args, **kwargs)
        finally:
            self._on_write()

    def raw_put(self, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().raw_put(*args, **kwargs)
        finally:
            self._on_write()

    def raw_delete(self, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().raw_delete(*args, **kwargs)
        finally:
            self._on_write()

    def refresh_token(self) -> None:
        with self._refresh_lock:
            super().refresh_token()

    def _refresh_if_required(self) -> None:
        if not self._expired():
            return
        with self._refresh_lock:
            if self._expired():  # another thread may have fetched it while this one waited
                super().refresh_token()

    def _expired(self) -> bool:
        return self.expires_at is not None and datetime.now(tz=UTC) >= self.expires_at


def admin_from_config(
    config: Mapping[str, Any], on_write: Callable[[], None] | None = None
) -> KeycloakAdmin:
    """An Admin API client authenticated as the ``ADMIN_CLIENT_ID`` service account. With
    ``on_write``, the caller marks its own changes (see :data:`CHANGES_MARKED_HEADER`)."""
    connection = SharedConnection(
        on_write=on_write or _nothing,
        custom_headers={CHANGES_MARKED_HEADER: "1"} if on_write else None,
        # python-keycloak joins relative paths to this URL: keep one trailing slash.
        server_url=str(config["KEYCLOAK_URL"]).rstrip("/") + "/",
        realm_name=config["KEYCLOAK_REALM"],
        client_id=config["ADMIN_CLIENT_ID"],
        client_secret_key=config["ADMIN_CLIENT_SECRET"],
        grant_type="client_credentials",
        timeout=int(config["KEYCLOAK_TIMEOUT"]),
        verify=True,
    )
    return KeycloakAdmin(connection=connection)


def translate(error: KeycloakError) -> Exception:
    """The core's exception for a python-keycloak one."""
    if isinstance(error, KeycloakConnectionError):
        return KeycloakUnavailable("Keycloak is unreachable")
    if error.response_code is not None and error.response_code >= 500:
        return KeycloakUnavailable(f"Keycloak answered HTTP {error.response_code}")
    return KeycloakRefused(str(error), error.response_code, error.response_body)


@contextmanager
def keycloak_errors() -> Iterator[None]:
    """Raise the core's exceptions instead of python-keycloak's (see the module docstring)."""
    try:
        yield
    except KeycloakError as error:
        raise translate(error) from error


def refused(error: KeycloakRefused, *codes: int) -> bool:
    """Keycloak refused with one of these statuses."""
    return error.response_code in codes


class Connection:
    """The Admin API of one realm; holds nothing that changes after construction."""

    def __init__(self, admin: KeycloakAdmin) -> None:
        self.admin = admin
        self.realm = str(admin.connection.realm_name)

    def get_json(self, path: str, **params: Any) -> Any:
        """GET an Admin API path of the realm that python-keycloak has no method for."""
        with keycloak_errors():
            response = self.admin.connection.raw_get(self._url(path), **params)
            return raise_error_from_response(response, KeycloakGetError)

    def pages(self, path: str, page: int = PAGE, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged Admin API list (``first``/``max``), page by page."""
        first = 0
        while True:
            batch = self.get_json(path, **params, first=first, max=page)
            yield from batch
            if len(batch) < page:
                return
            first += page

    def post_json(self, path: str, body: Any) -> Any:
        """POST a representation; the created resource (201) or the answer's JSON."""
        with keycloak_errors():
            response = self.admin.connection.raw_post(self._url(path), data=json.dumps(body))
            return raise_error_from_response(response, KeycloakPostError, expected_codes=[200, 201])

    def put_json(self, path: str, body: Any) -> None:
        with keycloak_errors():
            response = self.admin.connection.raw_put(self._url(path), data=json.dumps(body))
            raise_error_from_response(response, KeycloakPutError, expected_codes=[204])

    def delete(self, path: str) -> None:
        with keycloak_errors():
            response = self.admin.connection.raw_delete(self._url(path))
            raise_error_from_response(response, KeycloakDeleteError, expected_codes=[204])

    def _url(self, path: str) -> str:
        return f"admin/realms/{self.realm}/{path}"


__all__ = ["PAGE", "Connection", "admin_from_config", "keycloak_errors", "refused"]
