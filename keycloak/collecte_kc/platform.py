"""The dev run: mail catcher, Keycloak with the realm, provisioning, demo data, the portal and the
demo application (a relying party registered like any application of the platform).

`python -m collecte_kc.platform` (what `make run` calls). Ctrl-C stops everything; the data in
`.data/` stays, so the next run starts where this one ended.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from collecte_kc.applications import read_secret
from collecte_kc.demo import register_demo_application, seed
from collecte_kc.demo_client import CLIENT_ID as DEMO_APP_CLIENT_ID
from collecte_kc.paths import DATA_DIR, PROJECT_ROOT
from collecte_kc.provision import admin_client, provision
from collecte_kc.server import KeycloakServer

# Development defaults only: every one of them can be overridden from the environment, and the
# portal itself refuses to start without secrets, so none of these reaches production.
DEV_DEFAULTS = {
    "COLLECTE_KC_PORT": "8080",
    "COLLECTE_KC_MANAGEMENT_PORT": "9000",
    "COLLECTE_PORTAL_PORT": "5000",
    "COLLECTE_DEMO_APP_PORT": "5001",
    "COLLECTE_SMTP_PORT": "1025",
    "COLLECTE_MAIL_WEB_PORT": "8025",
    "COLLECTE_KC_ADMIN_USER": "admin",
    "COLLECTE_KC_ADMIN_PASSWORD": "admin",
    "COLLECTE_BOOTSTRAP_CLIENT_SECRET": "dev-bootstrap-secret",
    "COLLECTE_OIDC_CLIENT_SECRET": "dev-portal-secret",
    "COLLECTE_ADMIN_CLIENT_SECRET": "dev-portal-admin-secret",
    "COLLECTE_SECRET_KEY": "dev-only-flask-secret-key",
}


def portal_command(port: int) -> list[str]:
    """The portal under gunicorn with its settings (portal/gunicorn_conf.py), on loopback."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:portal.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "portal:create_app()",
    ]


def worker_command() -> list[str]:
    """The task queue's consumer with the portal's settings (portal/worker.py)."""
    return [sys.executable, "-m", "portal.worker"]


def _setting(name: str) -> str:
    return os.environ.get(name) or DEV_DEFAULTS[name]


def _stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # Ctrl-C, or a TERM from a supervisor, stops every child (even when started in background,
    # where the shell leaves SIGINT ignored).
    signal.signal(signal.SIGINT, _stop_on_signal)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    portal_url = f"http://localhost:{_setting('COLLECTE_PORTAL_PORT')}"
    demo_app_url = f"http://localhost:{_setting('COLLECTE_DEMO_APP_PORT')}"
    children: list[subprocess.Popen[bytes]] = []
    mail = subprocess.Popen(  # noqa: S603 - our own module
        [
            sys.executable,
            "-m",
            "collecte_kc.mailsink",
            "--smtp-port",
            _setting("COLLECTE_SMTP_PORT"),
            "--web-port",
            _setting("COLLECTE_MAIL_WEB_PORT"),
        ]
    )
    children.append(mail)
    keycloak = KeycloakServer(
        data_dir=DATA_DIR / "keycloak",
        http_port=int(_setting("COLLECTE_KC_PORT")),
        management_port=int(_setting("COLLECTE_KC_MANAGEMENT_PORT")),
        bootstrap_client_secret=_setting("COLLECTE_BOOTSTRAP_CLIENT_SECRET"),
        cache_themes=False,
        bootstrap_admin=(
            _setting("COLLECTE_KC_ADMIN_USER"),
            _setting("COLLECTE_KC_ADMIN_PASSWORD"),
        ),
        realm_env={
            "COLLECTE_PORTAL_URL": portal_url,
            "COLLECTE_OIDC_CLIENT_SECRET": _setting("COLLECTE_OIDC_CLIENT_SECRET"),
            "COLLECTE_ADMIN_CLIENT_SECRET": _setting("COLLECTE_ADMIN_CLIENT_SECRET"),
            "COLLECTE_SMTP_HOST": "127.0.0.1",
            "COLLECTE_SMTP_PORT": _setting("COLLECTE_SMTP_PORT"),
        },
    )
    try:
        print("Démarrage de Keycloak (premier démarrage : une minute environ)…", flush=True)
        keycloak.start()
        seconds = keycloak.wait_ready()
        print(f"Keycloak prêt en {seconds:.0f} s.", flush=True)
        admin = admin_client(
            keycloak.url, keycloak.bootstrap_client_id, keycloak.bootstrap_client_secret
        )
        provision(admin)
        invited = seed(admin, portal_url, keycloak.url)
        portal_env = {
            **os.environ,
            "COLLECTE_SECRET_KEY": _setting("COLLECTE_SECRET_KEY"),
            "COLLECTE_KEYCLOAK_URL": keycloak.url,
            "COLLECTE_OIDC_CLIENT_SECRET": _setting("COLLECTE_OIDC_CLIENT_SECRET"),
            "COLLECTE_ADMIN_CLIENT_SECRET": _setting("COLLECTE_ADMIN_CLIENT_SECRET"),
            "COLLECTE_SESSION_COOKIE_SECURE": "false",
            "COLLECTE_PORTAL_URL": portal_url,
            # Both gunicorn workers share the sessions kept in this folder.
            "COLLECTE_SESSION_FILE_DIR": str(DATA_DIR / "sessions-portail"),
        }
        children.append(
            subprocess.Popen(  # noqa: S603 - our own app
                portal_command(int(_setting("COLLECTE_PORTAL_PORT"))),
                env=portal_env,
                cwd=PROJECT_ROOT,
            )
        )
        # The task queue's consumer (bulk imports), on the SQLite file beside the sessions.
        children.append(
            subprocess.Popen(  # noqa: S603 - our own app
                worker_command(), env=portal_env, cwd=PROJECT_ROOT
            )
        )
        registration = register_demo_application(admin, demo_app_url)
        for warning in registration.warnings:
            print(f"Application de démonstration : {warning}", flush=True)
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "collecte_kc.demo_application"],
                env={
                    **os.environ,
                    "COLLECTE_KEYCLOAK_URL": keycloak.url,
                    "COLLECTE_DEMO_APP_PORT": _setting("COLLECTE_DEMO_APP_PORT"),
                    "COLLECTE_DEMO_APP_URL": demo_app_url,
                    # Read from Keycloak at each start and handed over in memory: never on disk.
                    "COLLECTE_DEMO_APP_CLIENT_SECRET": read_secret(admin, DEMO_APP_CLIENT_ID),
                },
                cwd=PROJECT_ROOT,
            )
        )
        _print_welcome(keycloak.url, portal_url, demo_app_url, invited)
        while (
            all(child.poll() is None for child in children)
            and keycloak.process
            and keycloak.process.poll() is None
        ):
            time.sleep(1)
        print("Un composant s'est arrêté ; arrêt de la plateforme.", flush=True)
    except KeyboardInterrupt:
        print("\nArrêt de la plateforme…", flush=True)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        keycloak.stop()
        for child in children:
            child.wait(10)


def _print_welcome(
    keycloak_url: str, portal_url: str, demo_app_url: str, invited: list[str]
) -> None:
    mail_url = f"http://localhost:{_setting('COLLECTE_MAIL_WEB_PORT')}"
    admin_user = _setting("COLLECTE_KC_ADMIN_USER")
    print(
        f"""
Plateforme de collecte — environnement de développement prêt.

  Portail                  {portal_url}
  Application de collecte  {demo_app_url}  (démonstration : ce que voit une application)
  Boîte mail (dév.)        {mail_url}
  Console d'administration {keycloak_url}/admin/master/console/
                           (identifiant {admin_user}, mot de passe : COLLECTE_KC_ADMIN_PASSWORD)

À essayer d'abord :
  1. Ouvrez la boîte mail : l'invitation de marie.dupont@demoville.fr (interlocutrice de collecte)
     vous fait choisir un mot de passe, accepter les CGU, puis vous connecter au portail.
  2. Sur la page de connexion, essayez « Mot de passe oublié ? » : le lien arrive par e-mail.
  3. jean.technicien@demoville.fr est interlocuteur technique : il ne peut pas se connecter.
  4. L'invitation de support@collecte-demo.fr ouvre l'espace support ({portal_url}/support/) :
     demandes, diagnostic « pourquoi ne peut-elle pas se connecter ? », historique.
  5. Connectée au portail, marie.dupont@demoville.fr ouvre l'application de collecte
     ({demo_app_url}) sans ressaisir son mot de passe : la page montre ses SIREN/lots et la
     version des CGU, lus dans le jeton de Keycloak. « Se déconnecter » ferme aussi la session
     Keycloak, donc celle du portail.
  Invitations envoyées par ce démarrage : {", ".join(invited) or "aucune (données déjà présentes)"}
Ctrl-C arrête tout ; les données restent dans .data/ (supprimez ce dossier pour repartir de zéro).
""",
        flush=True,
    )


if __name__ == "__main__":
    main()
