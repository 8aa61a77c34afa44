"""Back-channel calls from Keycloak: a session ended (OpenID Connect Back-Channel Logout), the
realm changed (our ``ChangeNotifier``).

Keycloak POSTs a signed logout token to ``/auth/backchannel-logout`` whenever a session
ends on its side — sign-out from another application, the admin's « sign out », a user
disabled, a collection function taken away (the realm's ``SessionRevocationListener``).
The portal checks the token as the specification asks (section 2.6) and deletes the
matching portal sessions, so the next request of that browser — or of anyone holding a
copy of its cookie — finds no session.

Keycloak also POSTs a ``changes_token`` to ``/auth/backchannel-changes`` once a change made by
someone else than the portal is committed (``keycloak/providers/…/ChangeNotifier.java``): the
portal then stops using what it had read before (:mod:`portal.core.keycloak.read_cache`). That
token is checked as a logout token is (signature by the realm, ``iss``, ``aud`` — here the
portal's Admin API client —, ``iat``), with its own event instead of the logout one.

The endpoints are called server to server: no cookie, no CSRF token (they are exempt), and
only a valid token signed by the realm has any effect. The realm's signing keys come
from Authlib's cached JWKS; a token naming an unknown key id refreshes them at most once
per ``JWKS_REFRESH_INTERVAL`` seconds, so nobody can make the portal fetch keys per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from portal.web import sessions

bp = Blueprint("backchannel", __name__)
_T = TypeVar("_T")

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
#: The event of ``ChangeNotifier``'s tokens: something changed in the realm.
CHANGES_EVENT = "urn:collecte:event:changes"
#: Asymmetric algorithms only: an HMAC token would be checked against a public key.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
#: Clock difference tolerated between Keycloak and the portal, in seconds.
LEEWAY = 60
#: How old a logout token may be: Keycloak sends it the moment the session ends.
MAX_AGE = 300
JWKS_REFRESH_INTERVAL = 60.0


class LogoutTokenError(ValueError):
    """The logout (or changes) token is not one the portal accepts (the answer is 400)."""


@dataclass(frozen=True, slots=True)
class LogoutRequest:
    """What a valid logout token asks to end: a Keycloak session, or all of a user's."""

    sid: str | None
    sub: str | None


def _checked_claims(
    token: str, key_set: KeySet, *, issuer: str, client_id: str, event: str, now: float | None
) -> dict[str, Any]:
    """The claims of a realm-signed back-channel token carrying ``event``, or LogoutTokenError."""
    try:
        decoded = jwt.decode(
            token, key_set, registry=JWSRegistry(algorithms=ALGORITHMS, strict_check_header=False)
        )
    except (JoseError, ValueError) as exc:
        raise LogoutTokenError(f"signature: {exc!r}") from exc
    claims: dict[str, Any] = decoded.claims
    registry = jwt.JWTClaimsRegistry(
        now=int(now if now is not None else time.time()),
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        raise LogoutTokenError(f"claims: {exc!r}") from exc
    current = now if now is not None else time.time()
    iat = claims["iat"]
    if not isinstance(iat, int | float) or iat < current - MAX_AGE - LEEWAY:
        raise LogoutTokenError("iat: too old")
    events = claims.get("events")
    if not isinstance(events, Mapping) or not isinstance(events.get(event), Mapping):
        raise LogoutTokenError(f"events: no {event}")
    return claims


def validate_logout_token(
    token: str,
    key_set: KeySet,
    *,
    issuer: str,
    client_id: str,
    now: float | None = None,
) -> LogoutRequest:
    """Check a logout token (OIDC Back-Channel Logout 1.0, 2.6) or raise LogoutTokenError."""
    claims = _checked_claims(
        token, key_set, issuer=issuer, client_id=client_id, event=LOGOUT_EVENT, now=now
    )
    if "nonce" in claims:
        raise LogoutTokenError("nonce: forbidden in a logout token")
    sid, sub = claims.get("sid"), claims.get("sub")
    if sid is not None and (not isinstance(sid, str) or not sid):
        raise LogoutTokenError("sid: not a string")
    if sub is not None and (not isinstance(sub, str) or not sub):
        raise LogoutTokenError("sub: not a string")
    if sid is None and sub is None:
        raise LogoutTokenError("neither sid nor sub")
    return LogoutRequest(sid=sid, sub=sub)


def validate_changes_token(
    token: str, key_set: KeySet, *, issuer: str, client_id: str, now: float | None = None
) -> None:
    """Check a changes token (``ChangeNotifier``) or raise LogoutTokenError."""
    _checked_claims(
        token, key_set, issuer=issuer, client_id=client_id, event=CHANGES_EVENT, now=now
    )


class RealmKeys:
    """The realm's signing keys, from a JWKS fetcher that caches them (Authlib's), refreshed
    when a token names an unknown key, at most once per interval."""

    def __init__(
        self,
        fetch: Callable[[bool], Mapping[str, Any]],
        clock: Callable[[], float] = time.monotonic,
        interval: float = JWKS_REFRESH_INTERVAL,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._interval = interval
        self._lock = threading.Lock()
        self._last_refresh: float | None = None
        # The key set built from the last JWKS the fetcher gave (it gives the same object until
        # it fetches again): building it costs as much as checking a signature.
        self._built: tuple[Mapping[str, Any], KeySet] | None = None

    def validate(self, token: str, *, issuer: str, client_id: str) -> LogoutRequest:
        """A logout token's request, or LogoutTokenError."""
        return self._checked(
            lambda keys: validate_logout_token(token, keys, issuer=issuer, client_id=client_id)
        )

    def validate_changes(self, token: str, *, issuer: str, client_id: str) -> None:
        """Nothing for a valid changes token, else LogoutTokenError."""
        self._checked(
            lambda keys: validate_changes_token(token, keys, issuer=issuer, client_id=client_id)
        )

    def _checked(self, check: Callable[[KeySet], _T]) -> _T:
        try:
            return check(self._keys_of(self._fetch(False)))
        except LogoutTokenError as exc:
            if not isinstance(exc.__cause__, InvalidKeyIdError) or not self._may_refresh():
                raise
        return check(self._keys_of(self._fetch(True)))

    def _keys_of(self, jwks: Mapping[str, Any]) -> KeySet:
        built = self._built
        if built is not None and built[0] is jwks:
            return built[1]
        key_set = _key_set(jwks)
        self._built = (jwks, key_set)  # held with its JWKS: that object stays alive, its id unique
        return key_set

    def _may_refresh(self) -> bool:
        with self._lock:
            now = self._clock()
            if self._last_refresh is not None and now - self._last_refresh < self._interval:
                return False
            self._last_refresh = now
            return True


def _key_set(jwks: Mapping[str, Any]) -> KeySet:
    try:
        return KeySet.import_key_set(cast(Any, dict(jwks)))
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise LogoutTokenError(f"realm keys unusable: {exc!r}") from exc


_KEYS_EXTENSION = "collecte.realm_keys"


def init_app(
    app: Flask,
    fetch_jwks: Callable[[bool], Mapping[str, Any]],
    issuer: Callable[[], str],
    changed: Callable[[], None],
) -> None:
    """Register the endpoints, exempt from CSRF (Keycloak calls them, not a browser form).
    `fetch_jwks(force)` gives the realm's JWKS (cached unless forced), `issuer()` its issuer,
    `changed()` marks that the realm changed."""
    app.extensions[_KEYS_EXTENSION] = (RealmKeys(fetch_jwks), issuer, changed)
    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(backchannel_logout)
    app.extensions["csrf"].exempt(backchannel_changes)


def _keys() -> tuple[RealmKeys, Callable[[], str], Callable[[], None]]:
    return cast(
        tuple[RealmKeys, Callable[[], str], Callable[[], None]],
        current_app.extensions[_KEYS_EXTENSION],
    )


@bp.post("/auth/backchannel-logout")
def backchannel_logout() -> ResponseReturnValue:
    token = request.form.get("logout_token", "")
    keys, issuer, _ = _keys()
    try:
        logout = keys.validate(
            token, issuer=issuer(), client_id=current_app.config["OIDC_CLIENT_ID"]
        )
    except LogoutTokenError as exc:
        current_app.logger.warning("Back-channel logout refused: %s", exc)
        return jsonify(error="invalid_request"), 400
    ended = sessions.end_sessions(logout.sid, logout.sub)
    current_app.logger.info("Back-channel logout: %d portal session(s) ended", ended)
    return "", 200


@bp.post("/auth/backchannel-changes")
def backchannel_changes() -> ResponseReturnValue:
    token = request.form.get("changes_token", "")
    keys, issuer, changed = _keys()
    try:
        keys.validate_changes(
            token, issuer=issuer(), client_id=current_app.config["ADMIN_CLIENT_ID"]
        )
    except LogoutTokenError as exc:
        current_app.logger.warning("Back-channel changes refused: %s", exc)
        return jsonify(error="invalid_request"), 400
    changed()
    return "", 200
