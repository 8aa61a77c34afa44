"""The portal's public address (``PORTAL_URL``, environment ``COLLECTE_PORTAL_URL``): the only
source of the absolute URLs it writes, and of the hosts it answers.

A request's Host header is chosen by whoever sends it: a link built from it (``url_for(...,
_external=True)``) in the mail announcing a request to support, in an invitation or in the
OpenID Connect ``redirect_uri`` would point wherever an attacker likes. :func:`external_url`
builds them from ``PORTAL_URL`` instead, and :func:`init_app` refuses any other Host with a
French 400 page before Flask runs anything for the request (hooks, CSRF check, session): Flask's
``TRUSTED_HOSTS`` is derived from ``PORTAL_URL`` unless set explicitly (several names).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, url_for
from werkzeug.exceptions import SecurityError
from werkzeug.sansio.utils import get_host

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def problem(url: object) -> str | None:
    """Why ``url`` cannot be the public address (an English sentence), or None."""
    if not isinstance(url, str) or not url:
        return "PORTAL_URL must be the portal's public address, e.g. https://collecte.example.fr."
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"PORTAL_URL must be an http(s) address, not {url!r}."
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return f"PORTAL_URL must be an origin (scheme, host, port), without a path: {url!r}."
    return None


def origin(config: Mapping[str, Any]) -> str:
    """``PORTAL_URL`` without its trailing slash."""
    return str(config["PORTAL_URL"]).rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint``: its path under the public address, whatever the Host
    of the request being served."""
    return origin(current_app.config) + url_for(endpoint, **values)


def init_app(app: Flask) -> None:
    if app.config.get("TRUSTED_HOSTS") is None:
        app.config["TRUSTED_HOSTS"] = [urlsplit(origin(app.config)).hostname]
    app.wsgi_app = HostGuard(app, app.wsgi_app)  # type: ignore[method-assign]


class HostGuard:
    """WSGI middleware: a request for a host not in ``TRUSTED_HOSTS`` gets the French 400 page.
    Done in front of Flask because, once Flask has refused the host, it can build no URL for
    the rest of the request (error page, hooks) and would turn the 400 into a 500."""

    def __init__(self, app: Flask, wrapped: WsgiApp) -> None:
        self.app = app
        self.wrapped = wrapped

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        server = (str(environ.get("SERVER_NAME", "")), int(environ.get("SERVER_PORT") or 0))
        try:
            get_host(
                str(environ.get("wsgi.url_scheme", "http")),
                environ.get("HTTP_HOST"),
                server,
                self.app.config["TRUSTED_HOSTS"],
            )
        except SecurityError:
            # Straight from the template: Flask's context processors need a request.
            template = self.app.jinja_env.get_template("errors/hote.html")
            data = template.render(adresse=origin(self.app.config)).encode()
            start_response(
                "400 BAD REQUEST",
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", str(len(data))),
                    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                    ("X-Content-Type-Options", "nosniff"),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [data]
        return self.wrapped(environ, start_response)
