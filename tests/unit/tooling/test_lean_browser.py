"""The sign-in benchmark's lean browser (benchmarks/lean_browser.py) against a loopback HTTP
server: it must send what a browser sends, or the benchmark would measure another sign-in."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from benchmarks.lean_browser import BrowserError, LeanBrowser


class _Site(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections alive unless told otherwise
    connections: set[int] = set()  # noqa: RUF012 - written by the handler threads

    def log_message(self, format: str, *args: object) -> None:
        return None

    def _answer(self, status: int, body: str, headers: list[tuple[str, str]]) -> None:
        _Site.connections.add(self.client_address[1])  # one port per connection
        encoded = body.encode()
        self.send_response(status)
        for name, value in [*headers, ("Content-Length", str(len(encoded)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(encoded)

    def do_GET(self) -> None:
        cookies = self.headers.get("Cookie", "")
        if self.path == "/realms/r/start":
            self._answer(
                302,
                "",
                [
                    ("Location", "/realms/r/page"),
                    ("Set-Cookie", "SITE=s1; Path=/"),
                    ("Set-Cookie", "AUTH=a1; Path=/realms/r/; Secure; HttpOnly"),
                ],
            )
        elif self.path == "/forget":
            self._answer(200, "", [("Set-Cookie", "AUTH=; Path=/realms/r/; Max-Age=0")])
        elif self.path == "/close":
            self._answer(200, cookies, [("Connection", "close")])
            self.close_connection = True
        else:
            self._answer(200, cookies, [])

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = parse_qs(self.rfile.read(length).decode())
        self._answer(303, "", [("Location", f"/merci?de={form['nom'][0]}")])


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Site.connections.clear()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_cookies_go_back_by_path_whatever_their_secure_flag_until_deleted(site: str) -> None:
    browser = LeanBrowser()
    page = browser.get(f"{site}/realms/r/start")  # redirect followed
    assert page.url == f"{site}/realms/r/page"
    assert page.text == "AUTH=a1; SITE=s1"  # the longest path first
    assert browser.get(f"{site}/elsewhere").text == "SITE=s1"
    browser.get(f"{site}/forget")
    assert browser.get(f"{site}/realms/r/page").text == "SITE=s1"


def test_a_form_is_posted_and_its_redirect_left_to_the_caller(site: str) -> None:
    browser = LeanBrowser()
    answer = browser.post(f"{site}/formulaire", data={"nom": "Zoé"}, allow_redirects=False)
    assert answer.is_redirect
    assert answer.headers["location"] == "/merci?de=Zoé"
    assert browser.get(f"{site}/x", params={"a": "1"}).url == f"{site}/x?a=1"


def test_a_connection_is_kept_while_the_server_keeps_it(site: str) -> None:
    browser = LeanBrowser()
    for _ in range(3):
        browser.get(f"{site}/page")
    assert len(_Site.connections) == 1
    browser.get(f"{site}/close")  # the server closes it: the next request opens another
    browser.get(f"{site}/page")
    assert len(_Site.connections) == 2
    browser.close()


def test_only_plain_http_is_followed() -> None:
    with pytest.raises(BrowserError):
        LeanBrowser().get("https://localhost/")
