"""The TLS front of the production topology (collecte_kc.production): a self-signed
certificate made here and nginx's configuration, Keycloak's paths to the Keycloak nodes and the
rest to the portal instances."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

#: The paths nginx sends to Keycloak (its pages, resources, Admin API and scripts).
KEYCLOAK_PATHS = ("realms", "resources", "admin", "js")


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
    """nginx in front of everything: TLS, Keycloak's paths to the nodes, the rest to the portals;
    a node or portal that fails is skipped for 10 s and the request retried on the other."""
    temp = "\n".join(
        f"  {kind}_temp_path {folder}/{kind}-temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )

    def upstream(name: str, ports: list[int]) -> str:
        servers = " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)
        return f"  upstream {name} {{ {servers} }}"

    return f"""worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}
{upstream("keycloak", nodes)}
{upstream("portal", portals)}
  server {{
    listen 127.0.0.1:{port} ssl;
    server_name localhost;
    ssl_certificate {cert};
    ssl_certificate_key {key};
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto https;
    proxy_set_header X-Forwarded-Host $host;
    proxy_set_header X-Forwarded-Port $server_port;
    proxy_next_upstream error timeout http_502 http_503;
    proxy_buffer_size 16k;
    proxy_buffers 8 16k;
    # Requests up to the portal's MAX_CONTENT_LENGTH (an import file) and responses are kept in
    # memory, never in temporary files: no personal data on the proxy's disk (and its workers,
    # under another account when started as root, need no access to the folder).
    client_max_body_size 6m;
    client_body_buffer_size 6m;
    proxy_max_temp_file_size 0;
    location ~ ^/({"|".join(KEYCLOAK_PATHS)})/ {{ proxy_pass http://keycloak; }}
    location / {{ proxy_pass http://portal; }}
  }}
}}
"""
