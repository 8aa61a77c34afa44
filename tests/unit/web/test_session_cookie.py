"""The session cookie: an opaque id only, hardened in production, lifetimes of the realm."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.web import sessions
from portal.web.sessions import SESSION_PREFIX
from tests.helpers.personas import session_user

REALM = json.loads((Path(__file__).parents[3] / "realm-export.json").read_text("utf-8"))


def set_cookie_headers(client: FlaskClient, sign_in: Callable[..., None]) -> list[str]:
    sign_in()
    response = client.get("/")
    return response.headers.getlist("Set-Cookie")


def test_the_cookie_holds_an_opaque_id_and_the_session_stays_on_the_server(
    client: FlaskClient, sign_in: Callable[..., None]
) -> None:
    [cookie] = set_cookie_headers(client, sign_in)
    name, value = cookie.split(";", 1)[0].split("=", 1)
    assert name == client.application.config["SESSION_COOKIE_NAME"]
    # 32 random bytes in base64url: no e-mail, no token, nothing to decode.
    assert len(value) == 43
    assert "." not in value
    assert "camille" not in value.lower()


def test_a_copied_cookie_opens_nothing_after_sign_out(
    client: FlaskClient,
    discovery: dict[str, Any],
    sign_in: Callable[..., None],
    csrf_token: Callable[[], str],
) -> None:
    sign_in()
    name = client.application.config["SESSION_COOKIE_NAME"]
    copied = client.get_cookie(name)
    assert copied is not None
    client.post("/deconnexion", data={"csrf_token": csrf_token()})

    thief = client.application.test_client()
    thief.set_cookie(name, copied.value)
    response = thief.get("/espace/")
    assert response.status_code == 302
    assert response.location.startswith("/connexion")


def test_production_cookie_is_host_prefixed_secure_and_hsts_is_sent(
    make_app: Callable[..., Flask],
) -> None:
    # Production: an https public address (the portal does not start without one).
    app = make_app(PORTAL_URL="https://collecte.example.fr")
    client = app.test_client()
    with client.session_transaction(base_url="https://collecte.example.fr") as sess:
        sess["user"] = session_user()
    response = client.get("/", base_url="https://collecte.example.fr")

    [cookie] = response.headers.getlist("Set-Cookie")
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0].startswith("__Host-collecte-session=")
    assert "Secure" in attributes
    assert "HttpOnly" in attributes
    assert "Path=/" in attributes
    assert "SameSite=Lax" in attributes
    assert not any(part.lower().startswith("domain=") for part in attributes)
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000"


def test_plain_http_run_has_no_host_prefix_and_no_hsts(make_app: Callable[..., Flask]) -> None:
    # COLLECTE_PORTAL_URL=http://… (dev run, tests): browsers refuse a __Host- cookie that is not
    # Secure, and a Secure cookie is never sent back over http.
    app = make_app(PORTAL_URL="http://localhost:5000", SESSION_COOKIE_SECURE=True)
    assert app.config["SESSION_COOKIE_NAME"] == "collecte-session"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    response = app.test_client().get("/")
    assert "Strict-Transport-Security" not in response.headers


def test_lifetimes_are_the_realms(app: Flask) -> None:
    assert app.config["SESSION_IDLE_TIMEOUT"] == REALM["ssoSessionIdleTimeout"] == 1800
    assert app.config["SESSION_MAX_LIFETIME"] == REALM["ssoSessionMaxLifespan"] == 36000
    assert app.permanent_session_lifetime.total_seconds() == 1800


def test_a_request_renews_the_idle_timeout_at_most_once_a_minute(
    client: FlaskClient, sign_in: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    [cookie] = set_cookie_headers(client, sign_in)
    expires = next(p for p in cookie.split("; ") if p.startswith("Expires="))
    assert client.get("/").headers.getlist("Set-Cookie") == []  # renewed a moment ago
    later = time.time() + sessions.RENEW_EVERY
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    [again] = client.get("/").headers.getlist("Set-Cookie")
    assert next(p for p in again.split("; ") if p.startswith("Expires=")) >= expires


def test_a_session_idle_longer_than_the_timeout_is_gone(
    make_app: Callable[..., Flask], sign_in: Callable[..., None]
) -> None:
    app = make_app(SESSION_IDLE_TIMEOUT=1)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"] = session_user()
    assert "Connecté en tant que" in client.get("/").get_data(as_text=True)
    deadline = time.monotonic() + 10
    while "Connecté en tant que" in client.get("/").get_data(as_text=True):
        assert time.monotonic() < deadline
        time.sleep(1.1)  # polls the store's expiry (whole seconds), not a fixed wait


def test_no_session_outlives_the_maximum_lifetime(
    client: FlaskClient, sign_in: Callable[..., None]
) -> None:
    sign_in(signed_in_at=int(time.time()) - 36000)
    assert "Connecté en tant que" not in client.get("/").get_data(as_text=True)
    sign_in(signed_in_at=int(time.time()) - 35990)
    assert "Connecté en tant que" in client.get("/").get_data(as_text=True)


def test_a_request_in_flight_does_not_bring_an_ended_session_back(
    client: FlaskClient, sign_in: Callable[..., None]
) -> None:
    """The race of a page loading while Keycloak's back-channel logout (or a sign-out in another
    tab) deletes the session: the page's request must not write it back."""
    sign_in()
    app = client.application
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    interface = app.session_interface
    with app.test_request_context("/", headers={"Cookie": f"{name}={cookie.value}"}) as context:
        in_flight = interface.open_session(app, context.request)
        assert in_flight["user"]["email"] == "camille.martin@example.fr"
        interface.cache.delete(SESSION_PREFIX + cookie.value)  # ended meanwhile
        interface.save_session(app, in_flight, app.response_class())

    assert "Connecté en tant que" not in client.get("/").get_data(as_text=True)
