"""The sign-in benchmark's browser: the same requests as `requests` would send, for a fraction of
the processor time.

On the dev run's shared cores the load client takes its processor time from the servers it
measures. With `requests` (tests.helpers.signin.LoopbackBrowser) it spent 5.5 ms per sign-in with
Keycloak alone and 8.5 ms through the portal (two more requests), measured one sign-in at a time
on 2026-12-07: a tenth of what Keycloak spends, charged unevenly to the two sides compared.

What it keeps of a browser: one connection per host and port, kept open while the server keeps
it (Keycloak does; gunicorn's synchronous workers close each); cookies by host (not port, as
browsers do), path and name, deleted by ``Max-Age=0``, sent back whatever their ``Secure`` flag
(the throwaway Keycloak is on plain http on loopback); redirects followed on demand. Plain http
only: the benchmark talks to loopback servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from http.client import HTTPConnection, HTTPResponse, RemoteDisconnected
from urllib.parse import urlencode, urljoin, urlsplit

from requests.structures import CaseInsensitiveDict

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 10


class BrowserError(OSError):
    """A page the lean browser cannot follow (too many redirects, not http)."""


@dataclass(frozen=True)
class Page:
    """What the sign-in scripts read of an answer, named as `requests.Response` names it."""

    url: str
    status_code: int
    headers: CaseInsensitiveDict[str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def is_redirect(self) -> bool:
        return self.status_code in REDIRECTS and "Location" in self.headers


class LeanBrowser:
    """One browser: its connections and its cookies (a new one per sign-in, as a new visitor)."""

    def __init__(self) -> None:
        self._connections: dict[tuple[str, int], HTTPConnection] = {}
        self._cookies: dict[tuple[str, str, str], str] = {}  # (host, path, name) → value

    def get(
        self,
        url: str,
        *,
        params: dict[str, str] | None = None,
        allow_redirects: bool = True,
        timeout: float = 30,
    ) -> Page:
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        return self._follow("GET", url, None, allow_redirects, timeout)

    def post(
        self, url: str, *, data: dict[str, str], allow_redirects: bool = True, timeout: float = 30
    ) -> Page:
        return self._follow("POST", url, urlencode(data).encode(), allow_redirects, timeout)

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _follow(
        self, method: str, url: str, body: bytes | None, allow_redirects: bool, timeout: float
    ) -> Page:
        for _ in range(MAX_REDIRECTS):
            page = self._send(method, url, body, timeout)
            if not (allow_redirects and page.is_redirect):
                return page
            url = urljoin(url, page.headers["Location"])
            method, body = "GET", None
        raise BrowserError(f"plus de {MAX_REDIRECTS} redirections : {url}")

    def _send(self, method: str, url: str, body: bytes | None, timeout: float) -> Page:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise BrowserError(f"adresse non prise en charge : {url}")
        host, path = parts.hostname, parts.path or "/"
        headers = {"Host": parts.netloc, "Accept-Encoding": "identity"}
        cookies = self._cookie_header(host, path)
        if cookies:
            headers["Cookie"] = cookies
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        target = f"{path}?{parts.query}" if parts.query else path
        key = (host, parts.port or 80)
        connection = self._connections.pop(key, None)
        if connection is not None:
            try:
                response = self._exchange(connection, method, target, body, headers)
            except (RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed the idle connection before reading the request: never
                # processed, so sent again once on a new connection.
                connection.close()
                connection = None
        if connection is None:
            connection = HTTPConnection(host, key[1], timeout=timeout)
            response = self._exchange(connection, method, target, body, headers)
        content = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or ():
            self._keep(host, cookie)
        if response.will_close:
            connection.close()
        else:
            self._connections[key] = connection
        return Page(url, response.status, CaseInsensitiveDict(response.getheaders()), content)

    @staticmethod
    def _exchange(
        connection: HTTPConnection,
        method: str,
        target: str,
        body: bytes | None,
        headers: dict[str, str],
    ) -> HTTPResponse:
        connection.request(method, target, body=body, headers=headers)
        return connection.getresponse()

    def _cookie_header(self, host: str, path: str) -> str:
        kept = [
            (len(cookie_path), name, value)
            for (cookie_host, cookie_path, name), value in self._cookies.items()
            if cookie_host == host and _path_matches(path, cookie_path)
        ]
        kept.sort(reverse=True)  # the longest paths first, as browsers send them
        return "; ".join(f"{name}={value}" for _, name, value in kept)

    def _keep(self, host: str, header: str) -> None:
        pair, *attributes = header.split(";")
        name, _, value = pair.strip().partition("=")
        path, deleted = "/", False
        for attribute in attributes:
            key, _, setting = attribute.strip().partition("=")
            if key.lower() == "path" and setting:
                path = setting
            elif key.lower() == "max-age":
                deleted = setting.strip().lstrip("-").isdigit() and int(setting) <= 0
        if deleted:
            self._cookies.pop((host, path, name), None)
        else:
            self._cookies[(host, path, name)] = value


def _path_matches(path: str, cookie_path: str) -> bool:
    """RFC 6265's path-match: the same path, or below it."""
    if path == cookie_path:
        return True
    prefix = cookie_path if cookie_path.endswith("/") else cookie_path + "/"
    return path.startswith(prefix)
