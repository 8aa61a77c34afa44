"""Sign in the way a person does: Keycloak's own login form, then the authorization code.

The tests that need a person's tokens (a coordinator's Admin API, a member's session) get them
through the browser flow of realm `collecte` — the flow that refuses whoever may not sign in —
never through the password grant, which the realm refuses on every client. The client used is
made by the test (`signin_client`, standard flow with PKCE S256, redirect to a loopback address
nobody listens on) and deleted afterwards; the product has no such client.

Scripted with `requests`: Keycloak marks its cookies `Secure` even on http://localhost, which
`http.cookiejar` would then never send back over http. A cookie policy cannot help (requests
copies the session's cookies into a jar of default policy for each request), so
`LoopbackBrowser` clears the flag on the cookies it keeps.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from tests.helpers.second_factor import answer_scripted

REALM = "collecte"
# The enrolment page, then (if the enrolment is refused) the code page: never more.
MAX_SECOND_FACTOR_PAGES = 2
# Nobody listens there: the code is read from the redirect's Location, never followed.
REDIRECT_URI = "http://127.0.0.1:9/connexion-essai"
LOGIN_FORM = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', re.S)
# The CGU page (keycloak/themes/collecte/login/terms.ftl): its form and the version it shows.
TERMS_FORM = re.compile(
    r'<form[^>]*action="([^"]+)"[^>]*>\s*<input type="hidden" name="cguVersion" value="([^"]+)"',
    re.S,
)
# The refusal page's message, or the login form's error next to the field.
ERROR_TEXT = re.compile(
    r'id="kc-error-message">\s*<p[^>]*>(.*?)</p>|id="input-error[^"]*"[^>]*>(.*?)<', re.S
)


class SignInRefused(Exception):
    """Keycloak did not end the sign-in with a code; `page` is the last page it showed."""

    def __init__(self, page: str) -> None:
        match = ERROR_TEXT.search(page)
        text = next((g for g in match.groups() if g), "") if match else page[:500]
        super().__init__(html.unescape(text).strip())
        self.page = page


class LoopbackBrowser(requests.Session):
    """Sends `Secure` cookies back over plain http: the throwaway Keycloak runs on localhost."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().request(*args, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


@dataclass(frozen=True)
class SigninClient:
    client_id: str
    uuid: str
    secret: str | None  # None: a public client


def _client_representation(
    client_id: str, confidential: bool, direct_grants: bool
) -> dict[str, Any]:
    return {
        "clientId": client_id,
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": not confidential,
        "standardFlowEnabled": True,
        "directAccessGrantsEnabled": direct_grants,
        "implicitFlowEnabled": False,
        "redirectUris": [REDIRECT_URI],
        "attributes": {"pkce.code.challenge.method": "S256"},
    }


@contextmanager
def signin_client(
    admin: KeycloakAdmin, *, confidential: bool = False, direct_grants: bool = False
) -> Iterator[SigninClient]:
    """A test client of realm `collecte` (standard flow, PKCE S256), deleted on exit.
    `direct_grants=True` makes one that accepts the password grant as far as the client's own
    setting goes, to show that the realm refuses it anyway."""
    client_id = f"essai-connexion-{uuid.uuid4().hex[:8]}"
    client_uuid = admin.create_client(
        _client_representation(client_id, confidential, direct_grants)
    )
    try:
        secret = admin.get_client_secrets(client_uuid)["value"] if confidential else None
        yield SigninClient(client_id, str(client_uuid), secret)
    finally:
        admin.delete_client(client_uuid)


def token_url(keycloak_url: str) -> str:
    return f"{keycloak_url}/realms/{REALM}/protocol/openid-connect/token"


def sign_in(
    keycloak_url: str,
    client: SigninClient,
    email: str,
    password: str,
    *,
    scope: str = "openid",
    accept_terms: bool = False,
) -> dict[str, Any]:
    """Keycloak's login form filled in and sent, the code exchanged with PKCE: the tokens
    (access, refresh, id) of the new Keycloak session. Staff give their second factor on the
    way (enrolled at their first sign-in, tests/helpers/second_factor.py). `scope`: what the client
    asks for; `accept_terms`: accept the CGU page if Keycloak shows it (as the person would).
    Raises `SignInRefused` with the message Keycloak showed when the sign-in does not end
    with a code."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    browser = LoopbackBrowser()
    page = browser.get(
        f"{keycloak_url}/realms/{REALM}/protocol/openid-connect/auth",
        params={
            "client_id": client.client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": scope,
            "state": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        timeout=10,
    )
    page.raise_for_status()
    form = LOGIN_FORM.search(page.text)
    if form is None:
        raise SignInRefused(page.text)
    response = browser.post(
        html.unescape(form.group(1)),
        data={"username": email, "password": password, "credentialId": ""},
        allow_redirects=False,
        timeout=10,
    )
    # Redirects inside Keycloak are followed; the one to the client carries the code. Staff
    # meet the second factor on the way (tests/helpers/second_factor.py answers it).
    for _ in range(MAX_SECOND_FACTOR_PAGES + 2):
        while response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.startswith(REDIRECT_URI):
                break
            response = browser.get(location, allow_redirects=False, timeout=10)
        else:
            terms = TERMS_FORM.search(response.text) if accept_terms else None
            if terms is not None:
                response = browser.post(
                    html.unescape(terms.group(1)),
                    data={"accept": "", "cguVersion": html.unescape(terms.group(2))},
                    allow_redirects=False,
                    timeout=10,
                )
                continue
            answered = answer_scripted(browser, response, email)
            if answered is None:
                raise SignInRefused(response.text)
            response = answered
            continue
        break
    else:
        raise SignInRefused(response.text)
    code = parse_qs(urlsplit(location).query).get("code")
    if not code:
        raise SignInRefused(location)
    data = {
        "grant_type": "authorization_code",
        "client_id": client.client_id,
        "code": code[0],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    if client.secret is not None:
        data["client_secret"] = client.secret
    exchanged = requests.post(token_url(keycloak_url), data=data, timeout=10)
    exchanged.raise_for_status()
    return dict(exchanged.json())


def refresh(keycloak_url: str, client: SigninClient, refresh_token: str) -> requests.Response:
    """The refresh-token grant as the client sends it (the answer, accepted or refused)."""
    data = {
        "grant_type": "refresh_token",
        "client_id": client.client_id,
        "refresh_token": refresh_token,
    }
    if client.secret is not None:
        data["client_secret"] = client.secret
    return requests.post(token_url(keycloak_url), data=data, timeout=10)


def password_grant(
    keycloak_url: str, client_id: str, email: str, password: str, secret: str | None = None
) -> requests.Response:
    """The password grant (ROPC) sent correctly: with the client's secret when it has one, so
    that a refusal is the realm's, not a client authentication failure."""
    data = {
        "grant_type": "password",
        "client_id": client_id,
        "username": email,
        "password": password,
        "scope": "openid",
    }
    if secret is not None:
        data["client_secret"] = secret
    return requests.post(token_url(keycloak_url), data=data, timeout=10)


_SHARED_CLIENTS: dict[str, SigninClient] = {}


def shared_client(admin: KeycloakAdmin, keycloak_url: str) -> SigninClient:
    """One public test client per Keycloak for the people the tests sign in for a while (their
    tokens die with the client that asked for them); `delete_shared_clients` removes it when the
    test session ends."""
    client = _SHARED_CLIENTS.get(keycloak_url)
    if client is None:
        client_id = f"essai-connexion-{uuid.uuid4().hex[:8]}"
        client_uuid = admin.create_client(_client_representation(client_id, False, False))
        client = _SHARED_CLIENTS[keycloak_url] = SigninClient(client_id, str(client_uuid), None)
    return client


def delete_shared_clients(admin: KeycloakAdmin, keycloak_url: str) -> None:
    client = _SHARED_CLIENTS.pop(keycloak_url, None)
    if client is not None:
        admin.delete_client(client.uuid)


class SignedInConnection(KeycloakOpenIDConnection):
    """An Admin API connection on a token obtained by `sign_in` through the shared test client.
    Its refresh token is used as the client would; when the session is over it signs in again
    through the login form, never by the password grant python-keycloak would otherwise fall
    back to."""

    def __init__(self, client: SigninClient, keycloak_url: str, email: str, password: str) -> None:
        self._signin = (client, email, password)
        super().__init__(
            server_url=keycloak_url, realm_name=REALM, client_id=client.client_id, timeout=10
        )
        self.get_token()

    def get_token(self) -> None:
        client, email, password = self._signin
        self.token = sign_in(str(self.server_url), client, email, password)

    def refresh_token(self) -> None:
        client, _, _ = self._signin
        current = self.token or {}
        answer = refresh(str(self.server_url), client, str(current.get("refresh_token", "")))
        if answer.ok:
            self.token = answer.json()
        else:
            self.get_token()


def admin_api_as(
    admin: KeycloakAdmin, keycloak_url: str, email: str, password: str
) -> KeycloakAdmin:
    """The Admin API of realm `collecte` with the rights of the person who signs in (as the admin
    console does for them: their own token, from the login form)."""
    client = shared_client(admin, keycloak_url)
    return KeycloakAdmin(connection=SignedInConnection(client, keycloak_url, email, password))
