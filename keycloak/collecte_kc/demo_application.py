"""A tiny data-collection application, for the dev run: what an application of the platform sees.

`python -m collecte_kc.demo_application` (started by `make run`, registered by the demo data with
`collecte_kc.applications`). It signs the person in through realm `collecte` (authorization code
with PKCE S256, scope `perimetres-collecte`), then shows, in French, who is signed in and, from the
ID token, the SIREN/lots where they may enter data (`perimetres`) and the CGU version they
accepted (`version_cgu`). « Se déconnecter » ends the Keycloak session too (RP-initiated logout);
Keycloak's back-channel logout (`/auth/backchannel-logout`, checked as the portal checks it) ends
this application's session when the Keycloak session ends elsewhere.

Sessions are kept in this process's memory (the cookie holds only a random id), so that a logout
token can end them; a demonstration only, one process. No asset is fetched from the internet.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, jsonify, redirect, render_template_string, request, session
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from joserfc.errors import JoseError

from collecte_kc.demo_client import BACKCHANNEL_PATH, CALLBACK_PATH, CLIENT_ID, NAME
from portal.core.keycloak.schema import PERIMETERS_SCOPE, REALM
from portal.web.backchannel import LogoutTokenError, RealmKeys

__all__ = ["BACKCHANNEL_PATH", "CALLBACK_PATH", "CLIENT_ID", "NAME", "create_app"]

SCOPE = f"openid profile email {PERIMETERS_SCOPE}"
#: Not the portal's cookie: both run on localhost, and cookies do not tell ports apart.
COOKIE_NAME = "application-collecte-demo"
_SESSION_KEY = "demo_session"
#: A sign-in that fails as sign-ins do (Keycloak's error, state, ID token): a French page.
SIGN_IN_ERRORS: tuple[type[Exception], ...] = (AuthlibBaseError, JoseError)


@dataclass(frozen=True)
class DemoConfig:
    keycloak_url: str
    client_secret: str
    public_url: str
    client_id: str = CLIENT_ID
    secret_key: str = ""
    timeout: float = 5.0

    @property
    def issuer(self) -> str:
        return f"{self.keycloak_url.rstrip('/')}/realms/{REALM}"


@dataclass(frozen=True)
class SignedIn:
    claims: dict[str, Any]
    id_token: str

    @property
    def sid(self) -> str | None:
        value = self.claims.get("sid")
        return value if isinstance(value, str) else None

    @property
    def sub(self) -> str:
        return str(self.claims.get("sub", ""))


class SessionStore:
    """Signed-in sessions by random id; ended by id, or by Keycloak session / user."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, SignedIn] = {}

    def start(self, signed_in: SignedIn) -> str:
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session_id] = signed_in
        return session_id

    def get(self, session_id: object) -> SignedIn | None:
        with self._lock:
            return self._sessions.get(session_id) if isinstance(session_id, str) else None

    def end(self, session_id: object) -> SignedIn | None:
        with self._lock:
            return self._sessions.pop(session_id, None) if isinstance(session_id, str) else None

    def end_matching(self, sid: str | None, sub: str | None) -> int:
        """The sessions of Keycloak session `sid` (or, without it, of user `sub`): as the
        logout token names them (OIDC Back-Channel Logout 1.0, 2.4)."""
        with self._lock:
            ended = [
                key
                for key, held in self._sessions.items()
                if (sid is not None and held.sid == sid)
                or (sid is None and sub is not None and held.sub == sub)
            ]
            for key in ended:
                del self._sessions[key]
        return len(ended)


def scope_for(offered: list[str]) -> str:
    """SCOPE, without the perimeters scope when the realm does not offer it (its discovery
    document's `scopes_supported`): Keycloak refuses a sign-in asking for an unknown scope
    (invalid_scope), and the page then says that the token has no perimeters."""
    return SCOPE if PERIMETERS_SCOPE in offered else SCOPE.replace(f" {PERIMETERS_SCOPE}", "")


@dataclass(frozen=True)
class Perimeter:
    siren: str
    lot: str
    raison_sociale: str
    principal: bool


def perimeters(claims: Mapping[str, Any]) -> list[Perimeter] | None:
    """The `perimetres` claim as rows; None when the token has no such claim."""
    value = claims.get("perimetres")
    if not isinstance(value, list):
        return None
    return [
        Perimeter(
            str(item.get("siren", "")),
            str(item.get("lot", "")),
            str(item.get("raisonSociale", "")),
            item.get("principal") is True,
        )
        for item in value
        if isinstance(item, Mapping)
    ]


PAGE = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ name }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem;
        color: #1e1e1e; }
 table { border-collapse: collapse; margin: 1rem 0; }
 th, td { border: 1px solid #777; padding: .4rem .8rem; text-align: left; }
 .note { color: #444; }
 button, .bouton { font-size: 1rem; padding: .5rem 1rem; }
 pre { background: #f4f4f4; padding: 1rem; overflow: auto; }
</style>
</head>
<body>
<main>
<h1>{{ name }}</h1>
{% if message %}<p role="alert">{{ message }}</p>{% endif %}
{% if user %}
  <p id="connecte">Connecté(e) : <strong>{{ user.claims.get("given_name", "") }}
    {{ user.claims.get("family_name", "") }}</strong> ({{ user.claims.get("email", "") }})</p>
  <h2>Périmètres de saisie</h2>
  {% if rows is none %}
    <p class="note" id="sans-perimetres">Le jeton d'identité ne contient pas de périmètres
      (portée « {{ scope_name }} » absente du realm ou du client).</p>
  {% elif not rows %}
    <p class="note" id="aucun-perimetre">Aucun SIREN/lot : vous n'êtes interlocuteur de collecte
      d'aucun adhérent.</p>
  {% else %}
  <table id="perimetres">
    <caption>SIREN et lots pour lesquels vous saisissez les données</caption>
    <thead><tr><th scope="col">SIREN</th><th scope="col">Lot</th>
      <th scope="col">Raison sociale</th><th scope="col">Interlocuteur principal</th></tr></thead>
    <tbody>
    {% for row in rows %}
      <tr><td>{{ row.siren }}</td><td>{{ row.lot }}</td><td>{{ row.raison_sociale }}</td>
        <td>{{ "oui" if row.principal else "non" }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
  <p id="version-cgu">Version des CGU acceptée :
    <strong>{{ user.claims.get("version_cgu") or "non indiquée" }}</strong></p>
  <form method="post" action="/deconnexion">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <button type="submit">Se déconnecter</button>
  </form>
  <details><summary>Contenu du jeton d'identité</summary><pre>{{ claims_json }}</pre></details>
{% else %}
  <p>Cette application de démonstration montre ce qu'une application de la plateforme reçoit
    de Keycloak : qui est connecté, ses SIREN/lots et la version des CGU acceptée.</p>
  <p><a class="bouton" id="se-connecter" href="/connexion">Se connecter</a></p>
{% endif %}
</main>
</body>
</html>
"""


def create_app(config: DemoConfig) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key or secrets.token_urlsafe(32),
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.public_url.startswith("https://"),
    )
    csrf = CSRFProtect(app)
    store = SessionStore()
    oauth = OAuth(app)
    oidc = cast(
        Any,
        oauth.register(
            name="keycloak",
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": SCOPE,
                "code_challenge_method": "S256",
                "default_timeout": config.timeout,
            },
        ),
    )
    keys = RealmKeys(lambda force: cast(Mapping[str, Any], oidc.fetch_jwk_set(force=force)))
    app.extensions["demo_sessions"] = store

    def page(message: str | None = None, status: int = 200) -> ResponseReturnValue:
        user = store.get(session.get(_SESSION_KEY))
        return (
            render_template_string(
                PAGE,
                name=NAME,
                user=user,
                rows=perimeters(user.claims) if user else None,
                scope_name=PERIMETERS_SCOPE,
                claims_json=json.dumps(user.claims, indent=2, ensure_ascii=False) if user else "",
                message=message,
            ),
            status,
        )

    @app.get("/")
    def home() -> ResponseReturnValue:
        return page()

    @app.get("/connexion")
    def login() -> ResponseReturnValue:
        offered = oidc.load_server_metadata().get("scopes_supported") or []
        return cast(
            ResponseReturnValue,
            oidc.authorize_redirect(
                config.public_url + CALLBACK_PATH, ui_locales="fr", scope=scope_for(offered)
            ),
        )

    @app.get(CALLBACK_PATH)
    def callback() -> ResponseReturnValue:
        options = {
            "iss": {"essential": True, "value": config.issuer},
            "aud": {"essential": True, "value": config.client_id},
        }
        try:
            token = oidc.authorize_access_token(claims_options=options)
        except SIGN_IN_ERRORS as exc:
            app.logger.warning("Sign-in failed: %r", exc)
            return page("La connexion n'a pas abouti. Réessayez.", 400)
        claims, id_token = token.get("userinfo"), token.get("id_token")
        if not isinstance(claims, Mapping) or not isinstance(id_token, str):
            return page("La connexion n'a pas abouti. Réessayez.", 400)
        session.clear()
        session[_SESSION_KEY] = store.start(SignedIn(dict(claims), id_token))
        return redirect("/")

    @app.post("/deconnexion")
    def logout() -> ResponseReturnValue:
        ended = store.end(session.pop(_SESSION_KEY, None))
        session.clear()
        if ended is None:
            return redirect("/")
        logout_url = oidc.create_logout_url(
            post_logout_redirect_uri=config.public_url + "/",
            id_token_hint=ended.id_token,
            client_id=config.client_id,
        )
        return redirect(logout_url["url"])

    @app.post(BACKCHANNEL_PATH)
    def backchannel_logout() -> ResponseReturnValue:
        try:
            logout = keys.validate(
                request.form.get("logout_token", ""),
                issuer=config.issuer,
                client_id=config.client_id,
            )
        except LogoutTokenError as exc:
            app.logger.warning("Back-channel logout refused: %s", exc)
            return jsonify(error="invalid_request"), 400
        ended = store.end_matching(logout.sid, logout.sub)
        app.logger.info("Back-channel logout: %d session(s) ended", ended)
        return "", 200

    # Keycloak calls it server to server: no browser form, no CSRF token.
    csrf.exempt(backchannel_logout)
    return app


def config_from_environment() -> DemoConfig:
    port = os.environ.get("COLLECTE_DEMO_APP_PORT", "5001")
    secret = os.environ.get("COLLECTE_DEMO_APP_CLIENT_SECRET")
    if not secret:
        raise SystemExit(
            "COLLECTE_DEMO_APP_CLIENT_SECRET est obligatoire : "
            f"python -m collecte_kc.applications secret {CLIENT_ID}"
        )
    return DemoConfig(
        keycloak_url=os.environ.get("COLLECTE_KEYCLOAK_URL", "http://localhost:8080"),
        client_secret=secret,
        public_url=os.environ.get("COLLECTE_DEMO_APP_URL") or f"http://localhost:{port}",
        client_id=os.environ.get("COLLECTE_DEMO_APP_CLIENT_ID", CLIENT_ID),
        secret_key=os.environ.get("COLLECTE_DEMO_APP_SECRET_KEY", ""),
    )


def main() -> None:
    from werkzeug.serving import make_server

    config = config_from_environment()
    host = os.environ.get("COLLECTE_DEMO_APP_BIND", "127.0.0.1")
    port = int(os.environ.get("COLLECTE_DEMO_APP_PORT", "5001"))
    server = make_server(host, port, create_app(config), threaded=True)
    print(f"{NAME} : {config.public_url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
