"""python-keycloak's async HTTP client, built only if something uses it.

Every python-keycloak connection (``keycloak.connection.ConnectionManager``, checked in 7.1.1)
builds an ``httpx.AsyncClient`` for the library's ``a_…`` methods next to the ``requests``
session its synchronous methods use. Building one loads the whole CA bundle into an SSL context:
measured in the page benchmark, the portal's workers (two connections each: the Admin API and
the token endpoint) took 3.5 MiB more with them. The portal, its tasks and its tooling only use
the synchronous methods, so the client python-keycloak asks for is :class:`LazyAsyncClient`:
it keeps the arguments and the attributes set on it, and builds the real client the first time
anything else is asked of it — an ``a_…`` method still works.
"""

from __future__ import annotations

import types
from typing import Any

import httpx
import keycloak.connection


class LazyAsyncClient:
    """Stands for ``httpx.AsyncClient(*args, **kwargs)`` until first used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_arguments", (args, kwargs))
        object.__setattr__(self, "_pending", {})
        object.__setattr__(self, "_client", None)

    @property
    def built(self) -> bool:
        return self._client is not None

    def _real(self) -> httpx.AsyncClient:
        if self._client is None:
            args, kwargs = self._arguments
            client = httpx.AsyncClient(*args, **kwargs)
            for name, value in self._pending.items():
                setattr(client, name, value)
            object.__setattr__(self, "_client", client)
        return self._client  # type: ignore[no-any-return]  # set just above

    def __getattr__(self, name: str) -> Any:
        # only called for what this object lacks: everything of the real client
        return getattr(self._real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if self._client is None:
            self._pending[name] = value
        else:
            setattr(self._client, name, value)


def install() -> None:
    """Make python-keycloak's connections build :class:`LazyAsyncClient` (idempotent): its
    module reads ``httpx.AsyncClient`` when a connection is made, so it is given a copy of
    ``httpx``'s namespace with that one name replaced; httpx itself is left as it is."""
    current = getattr(keycloak.connection, "httpx", None)
    if getattr(current, "AsyncClient", None) is LazyAsyncClient:
        return
    lazy = types.SimpleNamespace(**{**vars(httpx), "AsyncClient": LazyAsyncClient})
    setattr(keycloak.connection, "httpx", lazy)  # noqa: B010 - a module attribute, on purpose
