"""Relying parties in front of the test Keycloak: oauth2-proxy (nobody here wrote it), an upstream
that echoes what it receives, and a person signing in through them with Keycloak's own pages.

oauth2-proxy is built by `./keycloak/bootstrap.sh --browser` (pinned version, Go module proxy) into
`.cache/`. Every process started here listens on a free loopback port and is stopped by the
context manager that started it; every wait is a poll with a deadline.
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests

from collecte_kc.applications import PERIMETERS_SCOPE
from collecte_kc.paths import CACHE_DIR
from tests.helpers.signin import LOGIN_FORM, LoopbackBrowser, SignInRefused

OAUTH2_PROXY_VERSION = "v7.15.6"  # as in keycloak/bootstrap.sh
OAUTH2_PROXY = CACHE_DIR / f"oauth2-proxy-{OAUTH2_PROXY_VERSION}" / "oauth2-proxy"
#: How often oauth2-proxy refreshes its session with the refresh token (so, re-reads the claims).
COOKIE_REFRESH_SECONDS = 2
DEADLINE = 30.0
TERMS_PAGE = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="POST">(.*?)</form>', re.S)
HIDDEN_CGU_VERSION = re.compile(r'name="cguVersion" value="([^"]*)"')
MAX_PAGES = 10

T = TypeVar("T")


def require_perimeters_scope(platform: Any) -> None:
    """The claims `perimetres` and `version_cgu` come from the realm's client scope (a Keycloak
    extension): a test reading them says so plainly when it is missing."""
    names = {s["name"] for s in platform.admin.get_client_scopes()}
    assert PERIMETERS_SCOPE in names, (
        f"portée « {PERIMETERS_SCOPE} » absente du realm (extension de Keycloak non fusionnée)"
    )


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (the relying party verified it; the test reads it)."""
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def audiences(claims: dict[str, Any]) -> list[str]:
    """`aud` as a list (a JWT may carry one string, a list, or none)."""
    value = claims.get("aud") or []
    return [value] if isinstance(value, str) else list(value)


def poll(check: Callable[[], T | None], what: str, deadline: float = DEADLINE) -> T:
    """`check()` until it returns something, at most `deadline` seconds."""
    end = time.monotonic() + deadline
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > end:
            raise AssertionError(f"pas obtenu en {deadline:.0f} s : {what}")
        time.sleep(0.2)


class _Echo(BaseHTTPRequestHandler):
    """Answers every GET with the request's path and headers, as JSON."""

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def echo_upstream() -> Iterator[str]:
    """The application behind oauth2-proxy: an http.server thread; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def oauth2_proxy_arguments(
    *,
    keycloak_url: str,
    client_id: str,
    client_secret: str,
    port: int,
    upstream: str,
    scope: str,
) -> list[str]:
    """The reference set-up of the integration guide (README, « Brancher une application »)."""
    issuer = f"{keycloak_url}/realms/collecte"
    return [
        "--provider=keycloak-oidc",
        f"--oidc-issuer-url={issuer}",
        f"--client-id={client_id}",
        f"--client-secret={client_secret}",
        f"--redirect-url=http://127.0.0.1:{port}/oauth2/callback",
        f"--http-address=127.0.0.1:{port}",
        f"--upstream={upstream}",
        f"--scope={scope}",
        "--code-challenge-method=S256",
        "--email-domain=*",
        # the upstream receives the ID token (Authorization: Bearer) and the access token
        "--pass-authorization-header",
        "--pass-access-token",
        "--skip-provider-button",
        f"--cookie-secret={secrets.token_hex(16)}",
        "--cookie-secure=false",  # http on the loopback; https in production
        f"--cookie-refresh={COOKIE_REFRESH_SECONDS}s",
        # « Se déconnecter » (/oauth2/sign_out) ends the Keycloak session too
        f"--backend-logout-url={issuer}/protocol/openid-connect/logout?id_token_hint={{id_token}}",
    ]


@contextmanager
def oauth2_proxy(arguments: list[str], port: int, log_file: Path) -> Iterator[str]:
    """oauth2-proxy started with these arguments, ready (`/ping`); yields its URL; stopped on
    exit. Fails with the way to build it when the binary is missing."""
    assert OAUTH2_PROXY.exists(), (
        f"{OAUTH2_PROXY} absent : lancez ./keycloak/bootstrap.sh --browser (le construit une fois)"
    )
    url = f"http://127.0.0.1:{port}"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [str(OAUTH2_PROXY), *arguments], stdout=log, stderr=subprocess.STDOUT
        )
        try:

            def ready() -> bool | None:
                assert process.poll() is None, log_file.read_text("utf-8", "replace")[-3000:]
                try:
                    return requests.get(f"{url}/ping", timeout=2).ok or None
                except requests.ConnectionError:
                    return None

            poll(ready, f"oauth2-proxy prêt (journal : {log_file})")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _follow(browser: LoopbackBrowser, response: requests.Response) -> requests.Response:
    """Redirects followed one by one (the browser clears Keycloak's Secure flags in between)."""
    for _ in range(MAX_PAGES):
        if not response.is_redirect:
            return response
        location = urljoin(response.url, response.headers["Location"])
        response = browser.get(location, allow_redirects=False, timeout=10)
    raise AssertionError(f"trop de redirections : {response.url}")


def _accept_terms(browser: LoopbackBrowser, page: requests.Response) -> requests.Response | None:
    """Keycloak's CGU page answered « Accepter » (with the version it shows), or None."""
    if 'id="kc-accept"' not in page.text:
        return None
    form = TERMS_PAGE.search(page.text)
    assert form is not None, page.text[:2000]
    version = HIDDEN_CGU_VERSION.search(form.group(2))
    data = {"accept": "Accepter"}
    if version is not None:
        data["cguVersion"] = html.unescape(version.group(1))
    return browser.post(html.unescape(form.group(1)), data=data, allow_redirects=False, timeout=10)


def sign_in_through(
    start_url: str, email: str, password: str, browser: LoopbackBrowser | None = None
) -> tuple[LoopbackBrowser, requests.Response]:
    """Open the application, fill in Keycloak's login form (and accept the CGU if asked), and
    come back: the browser (its cookies) and the application's answer. Raises SignInRefused with
    Keycloak's message when Keycloak does not send the person back to the application."""
    browser = browser or LoopbackBrowser()
    page = _follow(browser, browser.get(start_url, allow_redirects=False, timeout=10))
    form = LOGIN_FORM.search(page.text)
    if form is None:
        raise SignInRefused(page.text)
    keycloak_origin = page.url.split("/realms/")[0]
    response = browser.post(
        html.unescape(form.group(1)),
        data={"username": email, "password": password, "credentialId": ""},
        allow_redirects=False,
        timeout=10,
    )
    for _ in range(MAX_PAGES):
        response = _follow(browser, response)
        if not response.url.startswith(keycloak_origin):
            return browser, response
        accepted = _accept_terms(browser, response)
        if accepted is None:
            raise SignInRefused(response.text)
        response = accepted
    raise AssertionError("la connexion ne revient pas à l'application")
