"""HTTP security headers added to every response."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.wrappers import Response


def keycloak_origin(keycloak_url: str) -> str:
    """``scheme://host[:port]`` of the Keycloak URL, as used in a CSP source list."""
    parts = urlsplit(keycloak_url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(keycloak_url: str) -> str:
    # No inline script or style, no third party: everything comes from the portal (one script:
    # static/tache.js, which follows an import job in place).
    # form-action: the only form posts to /deconnexion, which answers with a redirect
    # to Keycloak's end_session_endpoint; browsers check form-action against every
    # redirect of a form submission, so the Keycloak origin must be listed. Sign-in
    # is a plain link (GET navigation), which form-action does not govern.
    return "; ".join(
        [
            "default-src 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            f"form-action 'self' {keycloak_origin(keycloak_url)}",
        ]
    )


def init_app(app: Flask) -> None:
    csp = content_security_policy(app.config["KEYCLOAK_URL"])

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = csp
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.endpoint != "static":
            # Pages may show personal data: never keep them in a shared or browser cache.
            headers["Cache-Control"] = "no-store"
        return response
