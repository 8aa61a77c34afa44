"""Complete sign-ins, scripted as a browser does them: through the portal vs Keycloak alone.

Portal: GET /connexion → Keycloak's login page → password → the portal's callback (which
exchanges the code) → the first page. Keycloak alone: the same login page and password for a
client of the same realm, then the code exchange. Same users, same concurrency, same run.

The timed sign-ins use `benchmarks.lean_browser.LeanBrowser` (a fraction of requests' processor
time, which on shared cores is taken from the servers measured); the sign-ins whose browser is
used afterwards (page loads) use `tests.helpers.signin.LoopbackBrowser`, a requests session:
Keycloak marks its cookies Secure even on http://localhost and it clears the flag on the cookies
it keeps (requests copies the session's cookies into a jar of default policy for each request,
so a `DefaultCookiePolicy` on the session would not be used).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from benchmarks.lean_browser import LeanBrowser, Page
from portal.core.keycloak import schema
from tests.helpers.second_factor import answer_scripted
from tests.helpers.signin import LOGIN_FORM, REDIRECT_URI, TERMS_FORM, LoopbackBrowser, SigninClient


class SignInFailed(RuntimeError):
    pass


@dataclass
class Timings:
    """Seconds spent waiting for the portal and for Keycloak in one sign-in."""

    portal: float = 0.0
    keycloak: float = 0.0
    # Keycloak alone: the code exchange; the portal: its whole callback (exchange included)
    exchange: float = 0.0

    @property
    def total(self) -> float:
        return self.portal + self.keycloak


Browser = requests.Session | LeanBrowser
Answer = requests.Response | Page


def _timed(timings: Timings, who: str, call: Callable[[], Answer]) -> Answer:
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    if who == "portal":
        timings.portal += elapsed
    else:
        timings.keycloak += elapsed
    return response


def _through_keycloak(
    browser: Browser,
    page: Answer,
    email: str,
    password: str,
    stop: str,
    timings: Timings,
) -> str:
    """From Keycloak's login page to the redirect to `stop` (returned): password, then the CGU
    or the second factor when Keycloak shows them."""
    form = LOGIN_FORM.search(page.text)
    if form is None:
        raise SignInFailed(page.text[:300])
    response = _timed(
        timings,
        "keycloak",
        lambda: browser.post(
            html.unescape(form.group(1)),
            data={"username": email, "password": password, "credentialId": ""},
            allow_redirects=False,
            timeout=30,
        ),
    )
    for _ in range(8):
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(stop):
                return location
            response = _timed(
                timings,
                "keycloak",
                lambda url=location: browser.get(url, allow_redirects=False, timeout=30),  # type: ignore[misc]
            )
            continue
        terms = TERMS_FORM.search(response.text)
        if terms is not None:
            action, version = html.unescape(terms.group(1)), html.unescape(terms.group(2))
            response = browser.post(
                action,
                data={"accept": "", "cguVersion": version},
                allow_redirects=False,
                timeout=30,
            )
            continue
        answered = answer_scripted(browser, response, email)
        if answered is None:
            raise SignInFailed(response.text[:300])
        response = answered
    raise SignInFailed("trop de pages")


def portal_sign_in(portal_url: str, email: str, password: str) -> tuple[Timings, LoopbackBrowser]:
    """A complete sign-in to the portal; returns its timings and the signed-in browser."""
    browser = LoopbackBrowser()
    return signed_in_through_portal(browser, portal_url, email, password), browser


def signed_in_through_portal(
    browser: Browser, portal_url: str, email: str, password: str
) -> Timings:
    """A complete sign-in to the portal in `browser`; returns its timings."""
    timings = Timings()
    start = _timed(
        timings,
        "portal",
        lambda: browser.get(f"{portal_url}/connexion", allow_redirects=False, timeout=30),
    )
    login_url = urljoin(start.url, start.headers["Location"])
    page = _timed(timings, "keycloak", lambda: browser.get(login_url, timeout=30))
    callback = _through_keycloak(
        browser, page, email, password, f"{portal_url}/auth/callback", timings
    )
    started = time.perf_counter()
    landed = _timed(
        timings, "portal", lambda: browser.get(callback, allow_redirects=False, timeout=30)
    )
    timings.exchange = time.perf_counter() - started  # the whole callback, exchange included
    if not landed.is_redirect:
        raise SignInFailed(f"rappel du portail : {landed.status_code}")
    first = _timed(
        timings,
        "portal",
        lambda: browser.get(urljoin(callback, landed.headers["Location"]), timeout=30),
    )
    if first.status_code != 200:
        raise SignInFailed(f"première page : {first.status_code}")
    return timings


_token_clients = threading.local()


def _token_client() -> LeanBrowser:
    """This thread's connection to the token endpoint, kept open from one exchange to the next
    as an application's back end keeps it (the portal does, portal.web.oidc_http): a new
    connection per exchange would cost Keycloak more than the portal's own exchange."""
    client = getattr(_token_clients, "client", None)
    if client is None:
        client = _token_clients.client = LeanBrowser()
    return client


def keycloak_sign_in(keycloak_url: str, client: SigninClient, email: str, password: str) -> Timings:
    """The same sign-in with Keycloak alone: login page, password, code exchanged (PKCE)."""
    timings = Timings()
    browser = LeanBrowser()
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    base = f"{keycloak_url}/realms/{schema.REALM}/protocol/openid-connect"
    params = {
        "client_id": client.client_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid",
        "state": secrets.token_urlsafe(16),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = _timed(
        timings, "keycloak", lambda: browser.get(f"{base}/auth", params=params, timeout=30)
    )
    location = _through_keycloak(browser, page, email, password, REDIRECT_URI, timings)
    code = parse_qs(urlsplit(location).query)["code"][0]
    started = time.perf_counter()
    exchanged = _timed(
        timings,
        "keycloak",
        lambda: _token_client().post(
            f"{base}/token",
            data={
                "grant_type": "authorization_code",
                "client_id": client.client_id,
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            timeout=30,
        ),
    )
    timings.exchange = time.perf_counter() - started
    if exchanged.status_code != 200:
        raise SignInFailed(f"échange du code : {exchanged.status_code}")
    return timings


@dataclass(frozen=True)
class SignInRun:
    completed: int
    failed: int
    seconds: float
    timings: tuple[Timings, ...]

    @property
    def per_second(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0


def concurrent(users: list[str], seconds: float, sign_in: Callable[[str], Timings]) -> SignInRun:
    """One thread per user, each signing in again and again for `seconds`."""
    done: list[Timings] = []
    failed = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(email: str) -> None:
        nonlocal failed
        while time.monotonic() < deadline:
            try:
                timings = sign_in(email)
            except (SignInFailed, requests.RequestException, OSError, HTTPException):
                with lock:
                    failed += 1
                continue
            with lock:
                done.append(timings)

    threads = [threading.Thread(target=worker, args=(email,)) for email in users]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return SignInRun(len(done), failed, time.monotonic() - started, tuple(done))
