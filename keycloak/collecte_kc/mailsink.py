"""A local SMTP sink: Keycloak's mail lands here in tests and in the dev run.

`python -m collecte_kc.mailsink` also serves the caught mail as a French web page, so a newcomer
can open invitations and reset links in a browser.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

LINK_PATTERN = re.compile(r"https?://[^\s\"'<>]+")


class MailSink:
    """Keeps every message it receives; safe to read from other threads."""

    def __init__(self) -> None:
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        # Seconds the sink waits before accepting a message: a slow mail server, so that a test
        # can see whether the sending time leaks into an answer (the reset padding).
        self.accept_delay_seconds = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.accept_delay_seconds > 0:
            await asyncio.sleep(self.accept_delay_seconds)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self._messages.append(message)
        return "250 Message accepted"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, to: str, count: int = 1, timeout: float = 30.0) -> EmailMessage:
        """Poll until `to` has received `count` messages; return the newest."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = [m for m in self.messages if to.lower() in str(m["To"]).lower()]
            if len(received) >= count:
                return received[-1]
            time.sleep(0.1)
        raise TimeoutError(f"Aucun e-mail n°{count} reçu pour {to} en {timeout:.0f} s")

    def count_for(self, to: str) -> int:
        return sum(1 for m in self.messages if to.lower() in str(m["To"]).lower())


def text_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def links(message: EmailMessage) -> list[str]:
    return [html.unescape(link) for link in LINK_PATTERN.findall(text_body(message))]


def start_sink(host: str = "127.0.0.1", port: int = 1025) -> tuple[MailSink, Controller]:
    sink = MailSink()
    controller = Controller(sink, hostname=host, port=port)
    controller.start()
    return sink, controller


def _render(sink: MailSink) -> bytes:
    rows = []
    for message in reversed(sink.messages):
        body = html.escape(text_body(message))
        body = LINK_PATTERN.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', body)
        rows.append(
            f"<article><h2>{html.escape(str(message['Subject']))}</h2>"
            f"<p><strong>À :</strong> {html.escape(str(message['To']))} · "
            f"<strong>Date :</strong> {html.escape(str(message['Date']))}</p>"
            f"<pre>{body}</pre></article>"
        )
    content = "".join(rows) or "<p>Aucun e-mail reçu pour l'instant.</p>"
    page = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        "<title>Boîte de réception de développement</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:auto;padding:1rem}"
        "article{border:1px solid #888;padding:1rem;margin:1rem 0}pre{white-space:pre-wrap}</style>"
        '<meta http-equiv="refresh" content="5"></head><body>'
        "<h1>Boîte de réception de développement</h1>"
        "<p>Tous les e-mails envoyés par Keycloak en développement arrivent ici "
        "(les plus récents en premier).</p>"
        f"<main>{content}</main></body></html>"
    )
    return page.encode("utf-8")


def serve(smtp_port: int, web_port: int) -> None:
    sink, controller = start_sink(port=smtp_port)

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = _render(sink)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", web_port), Page)
    print(
        f"Boîte mail de développement : http://localhost:{web_port} (SMTP {smtp_port})", flush=True
    )
    try:
        server.serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Boîte mail de développement (SMTP + page web).")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--web-port", type=int, default=8025)
    arguments = parser.parse_args()
    serve(arguments.smtp_port, arguments.web_port)
