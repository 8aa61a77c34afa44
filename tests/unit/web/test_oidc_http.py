"""The OIDC client's HTTP: connections to Keycloak kept from one exchange to the next (Authlib
closes its session after each call), the environment read once per host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import requests
import responses

from portal.web import oidc_http
from portal.web.oidc_http import KeptAliveSession


class _TokenEndpoint(BaseHTTPRequestHandler):
    """Answers every POST with a token, keeping the connection open (HTTP/1.1); records the
    client port of each request: one port, one connection."""

    protocol_version = "HTTP/1.1"
    ports: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).ports.append(self.client_address[1])
        body = b'{"access_token": "a", "token_type": "Bearer", "expires_in": 300}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def token_endpoint(kc: responses.RequestsMock) -> Iterator[str]:
    """A token endpoint in a thread of this process (the unit tests' mock lets it through)."""
    _TokenEndpoint.ports = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/token"
    kc.add_passthru(url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def _exchange(url: str) -> None:
    # As Authlib does it: a new session per call, closed afterwards.
    with KeptAliveSession(client_id="collecte-portail", client_secret="secret") as session:
        session.fetch_token(url, grant_type="authorization_code", code="c")


def test_exchanges_reuse_one_connection_although_each_session_is_closed(
    token_endpoint: str,
) -> None:
    for _ in range(3):
        _exchange(token_endpoint)

    assert len(_TokenEndpoint.ports) == 3
    assert len(set(_TokenEndpoint.ports)) == 1


def test_a_plain_authlib_session_would_open_one_connection_per_exchange(
    token_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the pool is for (and the test above really tells the two apart)."""
    monkeypatch.setattr(KeptAliveSession, "__init__", oidc_http.OAuth2Session.__init__)
    for _ in range(3):
        _exchange(token_endpoint)

    assert len(set(_TokenEndpoint.ports)) == 3


def test_a_forked_worker_gets_its_own_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    first = KeptAliveSession().get_adapter("http://keycloak/")
    monkeypatch.setattr(oidc_http.os, "getpid", lambda: -1)
    second = KeptAliveSession().get_adapter("http://keycloak/")
    assert first is not second


def test_the_environment_is_read_once_per_host_and_still_applies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(oidc_http, "_environment", {})
    monkeypatch.setenv("HTTPS_PROXY", "http://mandataire.interne:3128")
    monkeypatch.setenv("NO_PROXY", "keycloak.interne")
    reads: list[str] = []
    original = requests.sessions.get_environ_proxies

    def counted(url: str, no_proxy: str | None = None) -> dict[str, str]:
        reads.append(url)
        return original(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counted)
    session = KeptAliveSession()

    for path in ("token", "certs", "token"):
        settings = session.merge_environment_settings(
            f"https://sso.example/realms/collecte/{path}", {}, None, None, None
        )
        assert settings["proxies"]["https"] == "http://mandataire.interne:3128"
    direct = session.merge_environment_settings(
        "https://keycloak.interne/realms/collecte/token", {}, None, None, None
    )

    assert "https" not in direct["proxies"]  # NO_PROXY still honoured
    assert len(reads) == 2  # once per host
