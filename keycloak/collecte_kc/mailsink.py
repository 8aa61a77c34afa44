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


MESSAGE_PATH = re.compile(r"/message/([0-9]{1,6})")


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


_STYLE = (
    "body{font-family:sans-serif;max-width:60rem;margin:auto;padding:1rem}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #888;padding:.4rem;"
    "text-align:left}pre{white-space:pre-wrap;overflow-wrap:anywhere}"
    "iframe{width:100%;min-height:28rem;border:1px solid #888}dt{font-weight:bold}"
    "a{overflow-wrap:anywhere}"
)


def _page(title: str, content: str) -> bytes:
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} – boîte mail de développement</title>"
        f"<style>{_STYLE}</style></head><body><main>{content}</main></body></html>"
    ).encode()


def render_index(sink: MailSink) -> bytes:
    """Every mail received, newest first, one line each (as a mailbox lists them)."""
    messages = sink.messages
    rows = [
        f'<tr><td><a href="/message/{number}">{html.escape(str(message["Subject"]))}</a></td>'
        f"<td>{html.escape(str(message['To']))}</td><td>{html.escape(str(message['Date']))}</td></tr>"
        for number, message in reversed(list(enumerate(messages, start=1)))
    ]
    table = (
        "<table><caption>E-mails reçus, les plus récents d’abord</caption><thead><tr>"
        '<th scope="col">Objet</th><th scope="col">À</th><th scope="col">Date</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>Aucun e-mail reçu pour l’instant.</p>"
    )
    return _page(
        "Boîte de réception",
        "<h1>Boîte de réception de développement</h1>"
        "<p>Tous les e-mails envoyés par Keycloak et le portail en développement arrivent ici. "
        '<a href="/">Actualiser</a></p>' + table,
    )


def render_message(sink: MailSink, number: int) -> bytes | None:
    """One mail as a mailbox shows it: its headers, its HTML part rendered (in a sandboxed
    frame: no script, no form), then its text part with its links; None if there is no such
    mail."""
    messages = sink.messages
    if not 1 <= number <= len(messages):
        return None
    message = messages[number - 1]
    headers = "".join(
        f"<dt>{label}</dt><dd>{html.escape(str(message[name] or ''))}</dd>"
        for label, name in (("De", "From"), ("À", "To"), ("Date", "Date"), ("Objet", "Subject"))
    )
    rendered = html_body(message)
    frame = (
        f'<h2>Version mise en forme</h2><iframe title="Contenu mis en forme de l’e-mail" '
        f'sandbox srcdoc="{html.escape(rendered)}"></iframe>'
        if rendered
        else ""
    )
    text = html.escape(text_body(message))
    text = LINK_PATTERN.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', text)
    subject = html.escape(str(message["Subject"]))
    return _page(
        str(message["Subject"]),
        f'<p><a href="/">← Boîte de réception</a></p><h1>{subject}</h1>'
        f"<dl>{headers}</dl>{frame}<h2>Version texte</h2><pre>{text}</pre>",
    )


def serve(smtp_port: int, web_port: int) -> None:
    sink, controller = start_sink(port=smtp_port)

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = MESSAGE_PATH.fullmatch(self.path)
            body = render_message(sink, int(found.group(1))) if found else None
            if self.path == "/":
                body = render_index(sink)
            if body is None:
                body = _page("Introuvable", "<h1>Cet e-mail n’existe pas.</h1>")
                self.send_response(404)
            else:
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
