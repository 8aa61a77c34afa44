"""Keycloak down or silent: the portal answers fast with a French 503, then recovers by itself.

A small TCP relay stands between the portal and the real Keycloak so a test can cut it, make it
swallow requests without answering, and restore it, while the portal keeps running.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import pytest
from flask import Flask

from portal.web.app import create_app
from portal.web.gateway import changes
from tests.helpers.ports import free_port


class Relay:
    """Forwards 127.0.0.1:port to Keycloak; `mode` is "forward", "refuse" or "silent"."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.mode = "forward"
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Close the port and every connection through it, pooled ones included."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        for connection in self._open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            self._open.append(client)
            if self.mode == "silent":
                continue  # keep it open, answer nothing
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._open.append(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def relay(platform) -> Any:
    relay = Relay(platform.keycloak.http_port)
    relay.start()
    yield relay
    relay.stop()


@pytest.fixture
def portal_through_relay(platform, relay) -> Flask:
    return create_app(
        {
            **platform.portal_config,
            "KEYCLOAK_URL": f"http://localhost:{relay.port}",
            "KEYCLOAK_TIMEOUT": 2,
        }
    )


def signed_in_client(app: Flask, person_id: str, email: str) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = {
            "sub": person_id,
            "email": email,
            "given_name": "Camille",
            "family_name": "Martin",
            "expires_at": int(time.time()) + 600,
            "signed_in_at": int(time.time()),
        }
    return client


def timed_get(client: Any, path: str) -> tuple[Any, float]:
    """The page read from Keycloak, not from what the portal kept of a previous read."""
    with client.application.app_context():
        changes().bump()
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_portal_reports_keycloak_outages_in_french_and_recovers(
    platform, relay, portal_through_relay, create_person, adherent
):
    adherent("213500010")
    person_id = create_person(collecte=["213500010/1"])
    email = platform.admin.get_user(person_id)["email"]
    client = signed_in_client(portal_through_relay, person_id, email)

    response, _ = timed_get(client, "/espace/")
    assert response.status_code == 200

    relay.stop()
    response, seconds = timed_get(client, "/espace/")
    assert response.status_code == 503 and seconds < 5
    page = response.get_data(as_text=True)
    assert "momentanément indisponible" in page and "Traceback" not in page

    relay.mode = "silent"
    relay.start()  # accepts connections, never answers: the portal's timeout must cut it
    response, seconds = timed_get(client, "/espace/")
    assert response.status_code == 503 and seconds < 8

    relay.stop()
    relay.mode = "forward"
    relay.start()
    response, _ = timed_get(client, "/espace/")
    assert response.status_code == 200
    assert email in response.get_data(as_text=True)
