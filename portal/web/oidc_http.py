"""The HTTP side of the portal's OpenID Connect client: one kept-alive connection pool to
Keycloak per worker, and the environment's proxy and CA settings read once per host.

Authlib builds a new requests session for every call and closes it afterwards: each code
exchange (and each token renewal) paid a new TCP connection, on our side and on Keycloak's.
And requests reads the whole process environment at every request to find proxies (twice) and a
CA bundle; the portal's configuration comes from ≈ 100 environment variables, so this was a
noticeable part of a sign-in's processor time. Neither changes while a worker lives.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from authlib.integrations.requests_client import OAuth2Session
from requests.adapters import HTTPAdapter

_EnvironmentKey = tuple[str, str, tuple[tuple[str, str], ...], Any, Any, Any]


class _PooledAdapter(HTTPAdapter):
    """An adapter whose connections outlive the session that used it (Authlib closes its
    session after each call); the pool lives as long as the worker process."""

    def close(self) -> None:
        return None  # the pool is the worker’s, not the session’s


_pools: dict[int, _PooledAdapter] = {}
_environment: dict[_EnvironmentKey, dict[str, Any]] = {}


def _adapter() -> _PooledAdapter:
    """This process's adapter: made after gunicorn forks, so no worker shares a socket."""
    pid = os.getpid()
    adapter = _pools.get(pid)
    if adapter is None:
        _pools.clear()  # the parent's pool, if any: its sockets are the parent's
        adapter = _pools[pid] = _PooledAdapter(pool_connections=2, pool_maxsize=4)
    return adapter


class KeptAliveSession(OAuth2Session):  # type: ignore[misc]  # Authlib is untyped
    """Authlib's requests session over the worker's pool, with the environment read once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        adapter = _adapter()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def merge_environment_settings(
        self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        parts = urlsplit(url)
        key = (
            parts.scheme,
            parts.netloc,
            tuple(sorted((proxies or {}).items())),
            stream,
            verify,
            cert,
        )
        settings = _environment.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            _environment[key] = settings
        return dict(settings)


class _KeptAliveApp(FlaskOAuth2App):  # type: ignore[misc]  # Authlib is untyped
    client_cls = KeptAliveSession


class KeptAliveOAuth(OAuth):  # type: ignore[misc]  # Authlib is untyped
    """Authlib's Flask registry, its OAuth 2 clients using :class:`KeptAliveSession`."""

    oauth2_client_cls = _KeptAliveApp
