"""Home page, help page, error pages and security headers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from portal.web.guards import login_required


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def test_home_signed_out(client: FlaskClient) -> None:
    response = client.get("/")
    body = text(response)
    assert response.status_code == 200
    assert '<html lang="fr">' in body
    assert "Plateforme de collecte des données adhérents" in body
    assert "Comment connaître votre identifiant" in body
    assert "l’adresse e-mail fournie par le coordonnateur de votre marché" in body
    assert re.search(r'<a class="bouton" href="/connexion">Se connecter</a>', body)
    assert "deux conditions indispensables" in body
    assert "« interlocuteur de collecte »" in body
    assert "Conditions Générales d’Utilisation (CGU) acceptées" in body
    assert "utilisateur-connecte" not in body
    assert "Se déconnecter" not in body


def test_home_signed_in(client: FlaskClient, sign_in: Callable[..., None]) -> None:
    sign_in()
    body = text(client.get("/"))
    assert (
        '<p id="utilisateur-connecte">Connecté en tant que Camille Martin '
        "(camille.martin@example.fr)</p>"
    ) in body
    form = re.search(r'<form method="post" action="/deconnexion"[^>]*>(.*?)</form>', body, re.S)
    assert form is not None
    assert re.search(r'name="csrf_token" value="[^"]+"', form.group(1))
    assert "Se déconnecter" in form.group(1)
    assert "Se connecter</a>" not in body


def test_user_data_is_escaped(client: FlaskClient, sign_in: Callable[..., None]) -> None:
    sign_in(given_name="<script>alert(1)</script>")
    body = text(client.get("/"))
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_expired_session_counts_as_signed_out(
    client: FlaskClient, sign_in: Callable[..., None]
) -> None:
    sign_in(expires_at=int(time.time()) - 1)
    body = text(client.get("/"))
    assert "utilisateur-connecte" not in body
    assert "Se connecter</a>" in body
    with client.session_transaction() as sess:
        assert "user" not in sess
        assert "id_token" not in sess


def test_login_required(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.get("/espace")
    @login_required
    def espace() -> str:
        return "espace adhérent"

    client = app.test_client()
    response = client.get("/espace?onglet=perimetre")
    assert response.status_code == 302
    assert response.location == "/connexion?next=/espace?onglet%3Dperimetre"

    with client.session_transaction() as sess:
        sess["user"] = {
            "sub": "s",
            "email": "e@example.fr",
            "given_name": "",
            "family_name": "",
            "expires_at": int(time.time()) + 60,
            "signed_in_at": int(time.time()),
        }
    assert text(client.get("/espace")) == "espace adhérent"

    with client.session_transaction() as sess:
        sess["user"] = {**sess["user"], "expires_at": int(time.time()) - 60}
    response = client.get("/espace")
    assert response.status_code == 302
    assert response.location == "/connexion?next=/espace"


def test_help_page(client: FlaskClient) -> None:
    response = client.get("/aide/connexion")
    body = text(response)
    assert response.status_code == 200
    assert "Vous ne parvenez pas à vous connecter ?" in body
    assert "deux conditions indispensables" in body
    assert "coordonnateur du groupement" in body
    assert "Mot de passe oublié" in body
    assert "ne jamais communiquer vos identifiants et mots de passe" in body
    assert 'aria-current="page"' in body


def test_base_layout_is_accessible(client: FlaskClient) -> None:
    body = text(client.get("/"))
    assert '<a class="lien-evitement" href="#contenu">Aller au contenu</a>' in body
    assert '<main id="contenu"' in body
    assert "<header" in body
    assert '<nav aria-label="Navigation principale">' in body
    assert "<footer" in body


def test_not_found_page_is_french(client: FlaskClient) -> None:
    response = client.get("/inexistant")
    assert response.status_code == 404
    assert "Page introuvable" in text(response)


def test_method_not_allowed_page_is_french(client: FlaskClient) -> None:
    response = client.post("/")
    assert response.status_code == 405
    assert "Action non autorisée" in text(response)
    assert "GET" in response.headers["Allow"]


def test_internal_error_page_is_french_without_traceback(make_app: Callable[..., Flask]) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom")
    body = text(response)
    assert response.status_code == 500
    assert "Erreur interne" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body


def test_security_headers_on_every_response(client: FlaskClient) -> None:
    for path in ("/", "/aide/connexion", "/inexistant", "/static/portail.css"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "form-action 'self' http://keycloak.test" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/static/portail.css").headers.get("Cache-Control") != "no-store"


def test_session_cookie_flags(client: FlaskClient, sign_in: Callable[..., None]) -> None:
    sign_in()
    response = client.get("/")  # renders the CSRF token: the session is written
    cookie = response.headers["Set-Cookie"]
    # Over http (TEST_CONFIG's public address); Secure and __Host- over https: test_session_cookie.
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
