"""A throwaway platform on free loopback ports, for the test session and the benchmarks.

SMTP sink, Keycloak on a fresh data folder with the realm imported and provisioned, and the
portal served from a thread. Everything stops when the context ends.

The portal is whatever the caller's app factory builds (``portal.create_app``): this module
imports no web application, so the core and the tooling stay usable without Flask.
"""

from __future__ import annotations

import secrets
import signal
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keycloak import KeycloakAdmin

from collecte_kc.mailsink import MailSink, start_sink
from collecte_kc.provision import admin_client, provision
from collecte_kc.server import KeycloakServer
from portal.core.keycloak import schema

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: Builds the portal from its configuration (``portal.create_app``).
AppFactory = Callable[[Mapping[str, Any]], "WSGIApplication"]

SUPPORT_EMAIL = "support@collecte.test"
# Debian's Chromium, as tests and benchmarks drive it: without background networking it makes no
# connection this machine's closed network would refuse.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sandbox:
    keycloak: KeycloakServer
    admin: KeycloakAdmin
    mail: MailSink
    portal_url: str
    portal_config: dict[str, Any]
    startup_seconds: float

    @property
    def keycloak_url(self) -> str:
        return self.keycloak.url


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _term_unwinds() -> Iterator[None]:
    """A TERM (a CI time limit, `kill`) unwinds like an exception, so that the `finally` stopping
    Keycloak runs: Keycloak runs in its own session, out of reach of our process group."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def sandbox(data_dir: Path, create_app: AppFactory) -> Iterator[Sandbox]:
    """The platform, its portal built by `create_app` from the sandbox's configuration."""
    with _term_unwinds(), _started(data_dir, create_app) as started:
        yield started


@contextmanager
def _started(data_dir: Path, create_app: AppFactory) -> Iterator[Sandbox]:
    smtp_port = free_port()
    mail, smtp = start_sink(port=smtp_port)
    portal_port = free_port()
    portal_url = f"http://localhost:{portal_port}"
    oidc_secret, admin_secret = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    server = KeycloakServer(
        data_dir=data_dir,
        http_port=free_port(),
        management_port=free_port(),
        bootstrap_client_secret=secrets.token_urlsafe(24),
        realm_env={
            "COLLECTE_PORTAL_URL": portal_url,
            "COLLECTE_SUPPORT_EMAIL": SUPPORT_EMAIL,
            "COLLECTE_OIDC_CLIENT_SECRET": oidc_secret,
            "COLLECTE_ADMIN_CLIENT_SECRET": admin_secret,
            "COLLECTE_SMTP_HOST": "127.0.0.1",
            "COLLECTE_SMTP_PORT": str(smtp_port),
        },
    )
    server.start()
    try:
        startup = server.wait_ready()
        admin = admin_client(server.url, server.bootstrap_client_id, server.bootstrap_client_secret)
        provision(admin)
        # Werkzeug comes with the portal's web stack: imported only where the portal is served.
        from werkzeug.serving import make_server

        portal_config: dict[str, Any] = {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "KEYCLOAK_URL": server.url,
            "KEYCLOAK_REALM": schema.REALM,
            "KEYCLOAK_TIMEOUT": 5,
            "OIDC_CLIENT_ID": schema.PORTAL_CLIENT,
            "ADMIN_CLIENT_ID": schema.PORTAL_ADMIN_CLIENT,
            "OIDC_CLIENT_SECRET": oidc_secret,
            "ADMIN_CLIENT_SECRET": admin_secret,
            "SESSION_COOKIE_SECURE": False,
            # Keycloak's back-channel logout reaches this portal at portal_url (realm_env).
            "PORTAL_URL": portal_url,
            "SESSION_FILE_DIR": str(data_dir / "sessions-portail"),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_port,
            "SUPPORT_EMAIL": SUPPORT_EMAIL,
            # Every browser test posts from one client (127.0.0.1): the per-client limit of the
            # « demande sans compte » (5 an hour) would stop the suite, not a script.
            "RATE_LIMIT_ACCOUNTLESS_PER_CLIENT": "60 per hour",
            # Tests change the CGU version: the minute's notice would mail every other test's
            # people; the notice's own test runs it (portal.web.notices.announce_terms).
            "TERMS_NOTICES": False,
        }
        # The task queue's SQLite file beside the sessions; its consumer in this portal's threads
        # only (other apps the tests build from portal_config must not take its tasks).
        served = create_app({**portal_config, "TASKS_IN_PROCESS": True})
        portal = make_server("127.0.0.1", portal_port, served, threaded=True)
        threading.Thread(target=portal.serve_forever, daemon=True).start()
        try:
            yield Sandbox(server, admin, mail, portal_url, portal_config, startup)
        finally:
            portal.shutdown()
    finally:
        server.stop()
        smtp.stop()
