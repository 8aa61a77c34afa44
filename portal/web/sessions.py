"""Portal sessions kept on the server side; the browser holds only an opaque id.

Flask-Session stores each session in a cachelib store: a folder of files
(``FileSystemCache``) for the dev run and the tests, Redis (``RedisCache``) when
``SESSION_REDIS_URL`` is set, so that several portal hosts share their sessions.
Because the data stay here, ending a session is deleting it: a copy of the cookie
taken before « Se déconnecter », or before Keycloak ended the session (back-channel
logout, :mod:`portal.web.backchannel`), opens nothing afterwards.

To find the portal sessions a logout token names, the same store keeps an index:
Keycloak session id (``sid``) → portal session ids, and user id (``sub``) → portal
session ids, written at sign-in, each with its time of sign-in: an entry older than
``SESSION_MAX_LIFETIME`` names a session that has ended, and is dropped at the next sign-in
(the user's index would otherwise grow by one entry per sign-in for as long as they sign in
again before it expires).

Lifetimes follow the realm (``ssoSessionIdleTimeout``, ``ssoSessionMaxLifespan``): a
session unused for ``SESSION_IDLE_TIMEOUT`` seconds expires in the store (a request renews
it, at most once per ``RENEW_EVERY`` seconds: writing the session at every request was a third
of a cached page's time), and none outlives ``SESSION_MAX_LIFETIME`` seconds from sign-in.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from cachelib import BaseCache, FileSystemCache
from flask import Flask, Request, current_app
from flask import session as flask_session
from flask_session.base import ServerSideSession
from flask_session.cachelib import CacheLibSessionInterface
from werkzeug.wrappers import Response

#: Prefixes of the keys in the store (a Redis shared with other uses stays readable).
SESSION_PREFIX = "collecte-session:"
_INDEX_PREFIX = "collecte-index:"

#: Session cookie names. Browsers accept a ``__Host-`` cookie only when it is Secure, has
#: Path=/ and no Domain: it cannot be set by a sibling sub-domain nor sent to one.
SECURE_COOKIE_NAME = "__Host-collecte-session"
PLAIN_COOKIE_NAME = "collecte-session"

#: HSTS: two years, as browsers' preload lists ask; only ever sent over https.
HSTS = "max-age=63072000"

_STORE_EXTENSION = "collecte.sessions"

#: A session is written back (its idle timeout renewed, its cookie set again) when it changed,
#: or when its last renewal is this many seconds old: it then expires between
#: ``SESSION_IDLE_TIMEOUT - RENEW_EVERY`` and ``SESSION_IDLE_TIMEOUT`` after its last request.
RENEW_EVERY = 60
_RENEWED_KEY = "renewed_at"


def init_app(app: Flask) -> None:
    """Configure Flask-Session, the cookie and HSTS from the application's configuration."""
    config = app.config
    secure = uses_https(config.get("PORTAL_URL"), bool(config["SESSION_COOKIE_SECURE"]))
    config["SESSION_COOKIE_SECURE"] = secure
    config["SESSION_COOKIE_NAME"] = SECURE_COOKIE_NAME if secure else PLAIN_COOKIE_NAME
    config["SESSION_COOKIE_PATH"] = "/"
    config["SESSION_COOKIE_DOMAIN"] = None
    config["SESSION_TYPE"] = "cachelib"
    config["SESSION_CACHELIB"] = store = _store(app)
    config["SESSION_KEY_PREFIX"] = SESSION_PREFIX
    config["SESSION_PERMANENT"] = True
    # Idle timeout: the store forgets a session this long after its last request.
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=int(config["SESSION_IDLE_TIMEOUT"]))
    # Renewed by EndableSessionInterface.save_session, at most once per RENEW_EVERY seconds.
    config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.extensions[_STORE_EXTENSION] = store
    app.session_interface = EndableSessionInterface(
        app, client=store, key_prefix=SESSION_PREFIX, permanent=True
    )
    if secure:

        @app.after_request
        def strict_transport_security(response: Response) -> Response:
            response.headers["Strict-Transport-Security"] = HSTS
            return response


class EndableSessionInterface(CacheLibSessionInterface):  # type: ignore[misc]  # untyped
    """Flask-Session's cachelib sessions, except that a session ended while one of its requests
    was in flight (sign-out in another tab, back-channel logout) is not written back by that
    request: a request may save its session (to renew the idle timeout), and saving a
    session read before its deletion would bring it back to life. And a session unchanged is
    saved only when its last renewal is ``RENEW_EVERY`` seconds old."""

    def open_session(self, app: Flask, request: Request) -> ServerSideSession:
        session = super().open_session(app, request)
        # Flask-Session gives an unknown or missing id a new one: the session is new.
        session.read_from_store = request.cookies.get(app.config["SESSION_COOKIE_NAME"]) == (
            session.sid
        )
        return session

    def save_session(self, app: Flask, session: ServerSideSession, response: Response) -> None:
        if session:  # an empty session (anonymous visitor) is never stored
            now = int(time.time())
            renewed = session.get(_RENEWED_KEY)
            if session.modified or not isinstance(renewed, int) or now - renewed >= RENEW_EVERY:
                session[_RENEWED_KEY] = now  # modified: stored and its cookie set again
        super().save_session(app, session, response)

    def regenerate(self, session: ServerSideSession) -> None:
        super().regenerate(session)
        session.read_from_store = False

    def _upsert_session(
        self, session_lifetime: timedelta, session: ServerSideSession, store_id: str
    ) -> None:
        if getattr(session, "read_from_store", False) and not self.cache.has(store_id):
            return  # ended meanwhile: stays ended
        super()._upsert_session(session_lifetime, session, store_id)


def uses_https(portal_url: object, default: bool) -> bool:
    """Whether the portal is served over https: its public URL says so when it is set."""
    if isinstance(portal_url, str) and portal_url:
        return urlsplit(portal_url).scheme == "https"
    return default


def _store(app: Flask) -> BaseCache:
    timeout = int(app.config["SESSION_MAX_LIFETIME"])
    redis_url = app.config.get("SESSION_REDIS_URL")
    if redis_url:
        # Imported only here: the redis client is needed only where Redis is configured.
        from cachelib import RedisCache
        from redis import Redis

        return RedisCache(host=Redis.from_url(redis_url), default_timeout=timeout, key_prefix="")
    folder = app.config.get("SESSION_FILE_DIR") or os.path.join(
        tempfile.gettempdir(), "collecte-portail-sessions"
    )
    # The files hold refresh tokens: only the portal's user may read the folder.
    os.makedirs(folder, mode=0o700, exist_ok=True)
    # threshold=0: never evict live sessions to make room (expired ones are dropped when read).
    return FileSystemCache(folder, threshold=0, default_timeout=timeout, mode=0o600)


def store() -> BaseCache:
    return cast(BaseCache, current_app.extensions[_STORE_EXTENSION])


def _index_key(kind: str, value: str) -> str:
    return f"{_INDEX_PREFIX}{kind}:{value}"


def start_new_session() -> None:
    """Give the current session a new id (the old one is deleted): an id known before
    sign-in (session fixation) or copied before sign-out is worth nothing after."""
    interface: Any = current_app.session_interface
    interface.regenerate(flask_session)


def remember_sign_in(keycloak_sid: str | None, sub: str) -> None:
    """Index the current portal session under the Keycloak session and the user it belongs to."""
    portal_sid = str(getattr(flask_session, "sid", ""))
    if not portal_sid:
        return
    keys = [_index_key("sub", sub)]
    if keycloak_sid:
        keys.append(_index_key("sid", keycloak_sid))
    cache = store()
    timeout = int(current_app.config["SESSION_MAX_LIFETIME"])
    now = int(time.time())
    for key in keys:
        live = {
            sid: signed_in
            for sid, signed_in in _entries(cache.get(key), now).items()
            if now - signed_in < timeout
        }
        # Read-modify-write: two sign-ins in one Keycloak session at the same instant
        # could lose one id; each sign-in lands in a new portal session, so it is rare.
        cache.set(key, {**live, portal_sid: now}, timeout=timeout)


def end_sessions(keycloak_sid: str | None, sub: str | None) -> int:
    """Delete the portal sessions of a Keycloak session (``sid``), or, without a ``sid``,
    every portal session of the user (``sub``), as a logout token asks. Returns how many."""
    cache = store()
    key = _index_key("sid", keycloak_sid) if keycloak_sid else _index_key("sub", sub or "")
    portal_sids = list(_entries(cache.get(key), int(time.time())))
    for portal_sid in portal_sids:
        cache.delete(SESSION_PREFIX + portal_sid)
    cache.delete(key)
    return len(portal_sids)


def _entries(value: object, now: int) -> dict[str, int]:
    """Portal session id → time of sign-in, from an index entry. An index written before the
    times were kept (a plain list of ids) counts its sessions as signed in ``now``."""
    if isinstance(value, Mapping):
        return {str(sid): int(at) for sid, at in value.items() if isinstance(at, int)}
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return {str(sid): now for sid in value}
    return {}
