"""The tokens of Keycloak's change notifications (``ChangeNotifier``), in a realm of their own:
one signed token is sent again for the writes that follow it closely (signing each write's cost
≈ 7 % of Keycloak's processor in a bulk import), but never once the realm's signing key was
rotated — a portal that no longer finds the old key would refuse every notification.

The realm is created for the test (the listener is global) with one client to tell, whose URL is
a recorder served by this test, and deleted afterwards."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from joserfc import jws, jwt
from joserfc.jwk import KeySet
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from collecte_kc.sandbox import Sandbox
from tests.helpers.relying_party import poll


class Recorder(ThreadingHTTPServer):
    """Answers 200 to every POST and keeps its ``changes_token``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Record)
        self.tokens: list[str] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://localhost:{self.server_address[1]}/changes"


class _Record(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        with self.server.lock:
            self.server.tokens += parse_qs(body).get("changes_token", [])
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def realm(platform: Sandbox, recorder: Recorder) -> Iterator[KeycloakAdmin]:
    """A realm whose client ``told`` is told about changes at the recorder's URL."""
    name = f"notifications-{uuid.uuid4().hex[:8]}"
    platform.admin.create_realm(
        {
            "realm": name,
            "enabled": True,
            "clients": [{"clientId": "told", "attributes": {"collecte.changes.url": recorder.url}}],
        }
    )
    connection = KeycloakOpenIDConnection(
        server_url=platform.keycloak_url,
        realm_name=name,
        user_realm_name="master",
        client_id=platform.keycloak.bootstrap_client_id,
        client_secret_key=platform.keycloak.bootstrap_client_secret,
        grant_type="client_credentials",
        timeout=10,
    )
    admin = KeycloakAdmin(connection=connection)
    try:
        yield admin
    finally:
        admin.delete_realm(name)


def _write(admin: KeycloakAdmin, recorder: Recorder) -> str:
    """One change in the realm; the token the recorder received for it."""
    before = len(recorder.tokens)
    admin.create_group({"name": f"groupe-{uuid.uuid4().hex[:8]}"})
    # Keycloak answers once the notification was answered: no wait should be needed.
    return poll(
        lambda: recorder.tokens[before] if len(recorder.tokens) > before else None,
        "notification reçue",
        deadline=5,
    )


def _key_id(token: str) -> str:
    return str(jws.extract_compact(token.encode()).headers()["kid"])


def _rotate_signing_key(admin: KeycloakAdmin) -> None:
    """A new RS256 key, then the old one deleted: it is no longer published."""
    realm_id = admin.get_realm(admin.connection.realm_name)["id"]
    old = [
        component
        for component in admin.get_components({"type": "org.keycloak.keys.KeyProvider"})
        if component["providerId"] == "rsa-generated"
    ]
    assert old, "no generated RSA key to rotate"
    admin.create_component(
        {
            "name": "rsa-rotated",
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": realm_id,
            "config": {"priority": ["200"], "algorithm": ["RS256"]},
        }
    )
    for component in old:
        admin.delete_component(component["id"])


def test_a_token_is_sent_again_until_the_signing_key_rotates(
    platform: Sandbox, realm: KeycloakAdmin, recorder: Recorder
) -> None:
    first = _write(realm, recorder)
    assert _write(realm, recorder) == first  # signed once for close writes

    _rotate_signing_key(realm)
    after = _write(realm, recorder)

    assert after != first
    assert _key_id(after) != _key_id(first)
    certs = requests.get(
        f"{platform.keycloak_url}/realms/{realm.connection.realm_name}"
        "/protocol/openid-connect/certs",
        timeout=10,
    ).json()
    assert _key_id(first) not in {key["kid"] for key in certs["keys"]}
    claims = jwt.decode(after, KeySet.import_key_set(certs)).claims
    assert claims["aud"] == "told"
