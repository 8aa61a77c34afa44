"""The TLS front of the production topology (collecte_kc.production): a self-signed
certificate made here and nginx's configuration (keycloak/proxy/collecte.conf.template, filled
in for this machine)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from string import Template

from collecte_kc.paths import PROJECT_ROOT

#: The platform's front, shared with docker-compose.yml's proxy service.
TEMPLATE = PROJECT_ROOT / "keycloak" / "proxy" / "collecte.conf.template"


def certificate(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 - openssl from the base system
        [
            shutil.which("openssl") or "/usr/bin/openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=True,
    )
    return cert, key


def nginx_config(
    folder: Path, port: int, cert: Path, key: Path, nodes: list[int], portals: list[int]
) -> str:
    """nginx's whole configuration: the platform's front (:data:`TEMPLATE`, the one
    docker-compose.yml uses) inside a main part of this topology's own (its folder, one
    worker)."""
    temp = "\n".join(
        f"  {kind}_temp_path {folder}/{kind}-temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )

    def servers(ports: list[int]) -> str:
        return " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)

    front = Template(TEMPLATE.read_text()).safe_substitute(
        KEYCLOAK_SERVERS=servers(nodes),
        PORTAL_SERVERS=servers(portals),
        PROXY_LISTEN=f"127.0.0.1:{port}",
        PROXY_SERVER_NAME="localhost",
        PROXY_CERTIFICATE=str(cert),
        PROXY_CERTIFICATE_KEY=str(key),
    )
    return f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}
{front}
}}
"""
