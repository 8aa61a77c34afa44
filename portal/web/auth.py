"""Sign-in with Keycloak (OpenID Connect, authorization code + PKCE).

Authlib does every protocol check: ``state``, PKCE, the ID token's signature
(JWKS fetched from the discovery document and cached), issuer, audience,
expiry and ``nonce``. This module only decides what goes in the Flask session
and where to send the user next.

The session lives on the server (:mod:`portal.web.sessions`): at sign-in it gets a new id,
indexed under the Keycloak session (``sid`` of the ID token) so that Keycloak's
back-channel logout (:mod:`portal.web.backchannel`) can end it; sign-out deletes it.

One setting matters: Authlib (1.9) compares ``aud`` with the client id only
when ``claims_options`` asks for it (by default it checks ``azp`` alone), so
the callback passes the expected issuer and audience explicitly.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeGuard, cast
from urllib.parse import quote, urlsplit

from authlib.common.errors import AuthlibBaseError
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from portal.web import backchannel, sessions
from portal.web.gateway import changes
from portal.web.oidc_http import KeptAliveOAuth
from portal.web.public_url import external_url

bp = Blueprint("auth", __name__)

_OAUTH_EXTENSION = "authlib.integrations.flask_client"
_CLIENT_NAME = "keycloak"
_STATE_PREFIX = f"_state_{_CLIENT_NAME}_"

# Session keys. The session is kept on the server; the cookie holds only its id.
USER_KEY = "user"
ID_TOKEN_KEY = "id_token"  # noqa: S105 (a session key name, not a secret)
REFRESH_TOKEN_KEY = "refresh_token"  # noqa: S105 (a session key name, not a secret)
NEXT_KEY = "next"
KEYCLOAK_SID_KEY = "keycloak_sid"  # the Keycloak session this portal session came from
#: « Mon compte »'s actions on Keycloak's own pages (application-initiated actions).
ACCOUNT_ACTIONS = {"mot-de-passe": "UPDATE_PASSWORD", "second-facteur": "CONFIGURE_TOTP"}
ACTION_DONE = "Modification enregistrée."
ACTION_CANCELLED = "Modification annulée : rien n’a été changé."
#: Set once a support page has been authorized (cleared at sign-in and when refused): only says
#: whether to show the link to the support console; every support page checks the role itself.
SUPPORT_KEY = "support"
#: The same for the coordination pages (support or coordinator): set once a staff page has been
#: authorized, cleared at sign-in and when refused; every staff page checks access itself.
STAFF_KEY = "equipe"

#: What makes a sign-in fail "normally": an error returned by Keycloak
#: (``error=access_denied``...), a state mismatch, a token endpoint error, or an
#: ID token that does not validate. Network failures are not here: they become 503.
SIGN_IN_ERRORS: tuple[type[Exception], ...] = (AuthlibBaseError, JoseError)


class _OIDCClient(Protocol):
    """The part of Authlib's ``FlaskOAuth2App`` the portal uses (Authlib is untyped)."""

    def authorize_redirect(self, redirect_uri: str, **kwargs: str) -> Response: ...

    def load_server_metadata(self) -> dict[str, Any]: ...

    def authorize_access_token(self, **kwargs: Any) -> dict[str, Any]: ...

    def fetch_access_token(self, **kwargs: Any) -> dict[str, Any]: ...

    def fetch_jwk_set(self, force: bool = False) -> dict[str, Any]: ...

    def create_logout_url(
        self,
        post_logout_redirect_uri: str | None = None,
        id_token_hint: str | None = None,
        **kwargs: str,
    ) -> dict[str, str]: ...


def init_app(app: Flask) -> None:
    """Register the Keycloak OIDC client (one Authlib registry per application), and give
    every template the signed-in user, as the session says, for the page header."""
    app.context_processor(lambda: {"utilisateur_connecte": _session_user()})
    base_url = app.config["KEYCLOAK_URL"].rstrip("/")
    realm = quote(app.config["KEYCLOAK_REALM"], safe="")
    sessions.init_app(app)
    oauth = KeptAliveOAuth(app)
    oauth.register(
        name=_CLIENT_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{base_url}/realms/{realm}/.well-known/openid-configuration",
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "default_timeout": app.config["KEYCLOAK_TIMEOUT"],
        },
    )
    backchannel.init_app(
        app, lambda force: _oidc().fetch_jwk_set(force=force), issuer, lambda: changes().bump()
    )


def _oidc() -> _OIDCClient:
    oauth = current_app.extensions[_OAUTH_EXTENSION]
    return cast(_OIDCClient, oauth.create_client(_CLIENT_NAME))


def issuer() -> str:
    """The realm's issuer, from the (cached) discovery document."""
    return str(_oidc().load_server_metadata()["issuer"])


@dataclass(frozen=True, slots=True)
class SessionUser:
    """The signed-in user, as kept in the Flask session."""

    sub: str
    email: str
    given_name: str
    family_name: str
    expires_at: int
    #: When the user signed in (epoch seconds): no session outlives SESSION_MAX_LIFETIME.
    signed_in_at: int

    @property
    def display_name(self) -> str:
        name = f"{self.given_name} {self.family_name}".strip()
        return name or self.email

    def to_session(self) -> dict[str, str | int]:
        return {
            "sub": self.sub,
            "email": self.email,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "expires_at": self.expires_at,
            "signed_in_at": self.signed_in_at,
        }

    @classmethod
    def from_session(cls, data: Mapping[str, Any]) -> SessionUser | None:
        try:
            return cls(
                sub=str(data["sub"]),
                email=str(data["email"]),
                given_name=str(data["given_name"]),
                family_name=str(data["family_name"]),
                expires_at=int(data["expires_at"]),
                signed_in_at=int(data["signed_in_at"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _session_user() -> SessionUser | None:
    """Who the session says is signed in, without renewing anything (for display only)."""
    data = session.get(USER_KEY)
    return SessionUser.from_session(data) if isinstance(data, Mapping) else None


def current_user() -> SessionUser | None:
    """Return the signed-in user, or ``None``.

    A session ended in Keycloak is already gone from the store (back-channel logout). When the
    access token has expired, the refresh token is used: that succeeds only while the Keycloak
    session lives, so the portal session ends with it. Failing that, or past the session's
    maximum lifetime (counted from sign-in), signed out.
    """
    data = session.get(USER_KEY)
    if not isinstance(data, Mapping):
        return None
    user = SessionUser.from_session(data)
    now = time.time()
    if user is not None and now - user.signed_in_at >= current_app.config["SESSION_MAX_LIFETIME"]:
        user = None
    if user is not None and user.expires_at <= now:
        user = _refreshed(user)
    if user is None:
        for key in (USER_KEY, ID_TOKEN_KEY, REFRESH_TOKEN_KEY):
            session.pop(key, None)
    return user


def _refreshed(user: SessionUser) -> SessionUser | None:
    refresh_token = session.get(REFRESH_TOKEN_KEY)
    if not isinstance(refresh_token, str):
        return None
    try:
        token = _oidc().fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token)
    except SIGN_IN_ERRORS as exc:
        current_app.logger.info("Session not renewed: %r", exc)
        return None
    renewed = replace(user, expires_at=int(token["expires_at"]))
    session[USER_KEY] = renewed.to_session()
    _keep_tokens(token)
    return renewed


def _keep_tokens(token: Mapping[str, Any]) -> None:
    """Keep what logout (ID token as hint) and renewal (refresh token) need, nothing else."""
    for key in (ID_TOKEN_KEY, REFRESH_TOKEN_KEY):
        if isinstance(token.get(key), str):
            session[key] = token[key]


def is_safe_next(target: str | None) -> TypeGuard[str]:
    """Accept only a local path ("/..."): no scheme, no host, no "//", no backslash."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    # Browsers treat "\" as "/" and drop tabs and newlines: "/\evil" or "/\t/evil"
    # would become "//evil", a link to another site.
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


@bp.get("/connexion")
def login() -> ResponseReturnValue:
    target = request.args.get("next")
    next_url = target if is_safe_next(target) else None
    if current_user() is not None:
        return redirect(next_url or url_for("main.home"))
    return _authorize(next_url)


def _authorize(next_url: str | None, **parameters: str) -> ResponseReturnValue:
    """To Keycloak's authorization endpoint; back at the callback, then to ``next_url``."""
    if next_url:
        session[NEXT_KEY] = next_url
    else:
        session.pop(NEXT_KEY, None)
    # Authlib keeps one state record per sign-in attempt for an hour; a user who starts over
    # would grow the cookie past what browsers keep. Only the latest attempt stays valid.
    for key in [key for key in session if key.startswith(_STATE_PREFIX)]:
        session.pop(key)
    return _oidc().authorize_redirect(
        external_url("auth.callback"), ui_locales="fr", **_one_time_values(), **parameters
    )


def _one_time_values() -> dict[str, str]:
    """The sign-in attempt's ``state``, ``nonce`` and PKCE verifier, each from one read of the
    system's random source: Authlib's default draws every character separately (≈ 100 system
    calls per sign-in, 0.1 ms of /connexion’s 1.06 ms of processor). 32 random bytes each, as
    RFC 7636 (4.1) recommends for the verifier; all three are base64url, as the specifications
    allow."""
    return {name: secrets.token_urlsafe(32) for name in ("state", "nonce", "code_verifier")}


@bp.get("/auth/callback")
def callback() -> ResponseReturnValue:
    client = _oidc()
    # The ID token must come from our realm and be issued to this client.
    claims_options = {
        "iss": {"essential": True, "value": client.load_server_metadata()["issuer"]},
        "aud": {"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]},
    }
    try:
        token = client.authorize_access_token(claims_options=claims_options)
    except SIGN_IN_ERRORS as exc:
        current_app.logger.warning("OIDC sign-in failed: %r", exc)
        return _sign_in_failed()
    userinfo = token.get("userinfo")
    id_token = token.get("id_token")
    if not userinfo or not isinstance(id_token, str):
        current_app.logger.warning("OIDC sign-in failed: no validated ID token in the response")
        return _sign_in_failed()

    user = SessionUser(
        sub=str(userinfo["sub"]),
        email=str(userinfo.get("email") or ""),
        given_name=str(userinfo.get("given_name") or ""),
        family_name=str(userinfo.get("family_name") or ""),
        expires_at=int(token.get("expires_at") or userinfo["exp"]),
        signed_in_at=int(time.time()),
    )
    next_url = session.get(NEXT_KEY)
    # Start from an empty session under a new id: nothing from before sign-in is carried over.
    session.clear()
    session[USER_KEY] = user.to_session()
    _keep_tokens(token)
    sessions.start_new_session()
    # The first page's forms need a CSRF token: made now, it is stored with the new session
    # instead of making that page write the session again.
    generate_csrf()
    keycloak_sid = userinfo.get("sid")
    if isinstance(keycloak_sid, str):
        session[KEYCLOAK_SID_KEY] = keycloak_sid
    sessions.remember_sign_in(keycloak_sid if isinstance(keycloak_sid, str) else None, user.sub)
    status = request.args.get("kc_action_status")  # back from « Mon compte »'s action
    if status == "success":
        flash(ACTION_DONE, "info")
    elif status == "cancelled":
        flash(ACTION_CANCELLED, "info")
    return redirect(next_url if is_safe_next(next_url) else url_for("main.home"))


@bp.get("/compte/keycloak/<action>")
def account_action(action: str) -> ResponseReturnValue:
    """Change the password or add a second factor on Keycloak's pages, then back to « Mon
    compte » (Keycloak asks for the password again first when the sign-in is not recent)."""
    kc_action = ACCOUNT_ACTIONS.get(action)
    if kc_action is None:
        abort(404)
    account = url_for("compte.accueil")
    if current_user() is None:
        return redirect(url_for("auth.login", next=account))
    return _authorize(account, kc_action=kc_action)


def _sign_in_failed() -> ResponseReturnValue:
    next_url = session.get(NEXT_KEY)
    retry_url = url_for("auth.login", next=next_url if is_safe_next(next_url) else None)
    return render_template("auth/echec.html", retry_url=retry_url), 400


@bp.post("/deconnexion")
def logout() -> ResponseReturnValue:
    """Delete the session, then end the Keycloak session (RP-initiated logout)."""
    id_token = session.get(ID_TOKEN_KEY)
    session.clear()
    flash("Déconnexion effectuée.", "info")
    # The stored session is deleted: a copy of the cookie taken before opens nothing.
    sessions.start_new_session()
    if not isinstance(id_token, str):
        return redirect(url_for("main.home"))
    logout = _oidc().create_logout_url(
        post_logout_redirect_uri=external_url("main.home"),
        id_token_hint=id_token,
        client_id=current_app.config["OIDC_CLIENT_ID"],
    )
    return redirect(logout["url"])
