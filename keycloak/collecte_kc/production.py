"""The production topology on this machine, without Docker (issue 15):

- PostgreSQL (collecte_kc.postgres), loopback, a throwaway data folder;
- two Keycloak nodes in ``start`` mode (one optimized build, ``--db=postgres``, health and metrics
  on), clustered through Keycloak's distributed caches, discovered through the database
  (``jdbc-ping``, Keycloak 26's default), each in its own copy of the distribution;
- nginx (Debian's package) terminating TLS with a certificate made here, in front of both nodes
  (``/realms``, ``/resources``, ``/admin``, ``/js``) and of two portal instances (the rest), one
  public URL ``https://localhost:<port>``; Keycloak trusts that certificate for its back-channel
  calls to the portal, the portal through ``REQUESTS_CA_BUNDLE``;
- Redis (collecte_kc.redis_store), the portal hosts' shared store: sessions, import jobs' queue,
  abuse-limit counters;
- two portal hosts, each gunicorn (portal/gunicorn_conf.py) and the task queue's consumer
  (portal/worker.py).

``python -m collecte_kc.production`` starts it and waits; ``tests/production/`` kill parts of it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from collecte_kc.dist import ensure_distribution
from collecte_kc.front_proxy import certificate, nginx_config
from collecte_kc.mailsink import start_sink
from collecte_kc.paths import PROJECT_ROOT
from collecte_kc.platform import portal_command, worker_command
from collecte_kc.postgres import Postgres, postgres
from collecte_kc.provision import admin_client, provision
from collecte_kc.redis_store import redis_server
from collecte_kc.sandbox import free_port
from collecte_kc.server import (
    SECURITY_NOTICES,
    KeycloakServer,
    find_java_home,
    stop_process,
    wait_until_ready,
)
from portal.core.keycloak import schema

BOOTSTRAP_CLIENT = "collecte-bootstrap"
#: An import whose consumer died is resumed by the other host's after this long (the default,
#: 120 s, would make the failover test wait two minutes).
IMPORT_STALE_SECONDS = 10
#: The connection pool's validation, so that the nodes survive a PostgreSQL restart.
POOL_SETTINGS = PROJECT_ROOT / "keycloak" / "conf" / "quarkus.properties"


#: The heap kc.sh gives Keycloak in a container of docker-compose.yml's 2 GB (50 % at start, at
#: most 70 %): outside a container it would give 512 MB (``JAVA_OPTS_KC_HEAP`` replaces it).
CONTAINER_HEAP = "-Xms1024m -Xmx1434m"


class TopologyError(RuntimeError):
    """A part of the topology did not start; the message says which and where its log is."""


@dataclass
class Node:
    """One Keycloak node: its own copy of the built distribution, ports and log."""

    name: str
    home: Path
    http_port: int
    management_port: int
    jgroups_port: int
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    options: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def log_file(self) -> Path:
        return self.home.parent / f"keycloak-{self.name}.log"

    def start(self, env: dict[str, str], options: list[str]) -> None:
        self.env, self.options = env, options
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the pinned distribution
                [
                    str(self.home / "bin" / "kc.sh"),
                    "start",
                    "--optimized",
                    *options,
                    f"--http-port={self.http_port}",
                    f"--http-management-port={self.management_port}",
                ],
                env={
                    **env,
                    "JAVA_OPTS_KC_HEAP": env.get("JAVA_OPTS_KC_HEAP") or CONTAINER_HEAP,
                    "JAVA_OPTS_APPEND": "-Djgroups.bind.address=127.0.0.1 "
                    f"-Djgroups.bind.port={self.jgroups_port}",
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 300) -> None:
        wait_until_ready(self.process, self.management_port, self.log_file, timeout)

    def restart(self) -> None:
        """Start again after :meth:`kill` (joins the cluster of the other node)."""
        self.start(self.env, [option for option in self.options if option != "--import-realm"])
        self.wait_ready()

    def kill(self) -> None:
        """As a crash would: no graceful shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        stop_process(self.process)


@dataclass
class PortalHost:
    """One portal host: gunicorn and the task queue's consumer beside it."""

    name: str
    port: int
    work: Path
    env: dict[str, str]
    web: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.web = _spawn(portal_command(self.port), self.work / f"{self.name}.log", self.env)
        self.worker = _spawn(worker_command(), self.work / f"taches-{self.name}.log", self.env)

    def kill(self) -> None:
        """As a host lost would: both processes, no graceful shutdown."""
        for process in (self.web, self.worker):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)

    def stop(self) -> None:
        for process in (self.web, self.worker):
            stop_process(process, 20)


@dataclass
class Topology:
    work: Path
    public_url: str
    certificate: Path
    database: Postgres
    nodes: list[Node]
    portals: list[PortalHost]
    portal_config: dict[str, Any]
    admins: list[Any]  # one KeycloakAdmin per node, as the bootstrap client
    mail: Any
    started_seconds: float = 0.0

    @property
    def admin(self) -> Any:
        """The Admin API through node A."""
        return self.admins[0]


def _built_home(work: Path) -> Path:
    """One optimized build of the distribution with our providers, realm and theme (the dev
    run's preparation, then ``kc.sh build`` for PostgreSQL)."""
    prepared = KeycloakServer(work / "unused")._prepare_home()
    home = work / "keycloak-build"
    shutil.copytree(prepared, home, symlinks=True)
    shutil.rmtree(home / "data" / "tmp", ignore_errors=True)
    shutil.rmtree(home / "data" / "transaction-logs", ignore_errors=True)
    shutil.copy(POOL_SETTINGS, home / "conf" / "quarkus.properties")
    result = subprocess.run(  # noqa: S603 - the pinned distribution
        [
            str(home / "bin" / "kc.sh"),
            "build",
            "--db=postgres",
            "--health-enabled=true",
            "--metrics-enabled=true",
        ],
        env={**os.environ, "JAVA_HOME": str(find_java_home())},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise TopologyError(f"kc.sh build : {result.stdout[-2000:]}{result.stderr[-2000:]}")
    return home


def _spawn(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A program of the topology in its own process group, its output appended to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603 - our own programs
            command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


@contextmanager
def _process(
    command: list[str], log: Path, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    process = _spawn(command, log, env)
    try:
        yield process
    finally:
        stop_process(process, 20)


def _wait_for(url: str, certificate: Path, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2, verify=str(certificate)).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TopologyError(f"{what} ne répond pas : {url}")


@contextmanager
def topology(work: Path) -> Iterator[Topology]:
    """Start everything (≈ 2 to 3 min on 2 cores), stop everything on exit."""
    started = time.monotonic()
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise TopologyError(
            "nginx est nécessaire : ./keycloak/bootstrap.sh --production l'installe."
        )
    ensure_distribution()
    work.mkdir(parents=True, exist_ok=True)
    proxy_port = free_port()
    public_url = f"https://localhost:{proxy_port}"
    cert, key = certificate(work / "tls")
    secrets_ = {
        name: secrets.token_urlsafe(24) for name in ("oidc", "admin", "bootstrap", "db", "redis")
    }
    with ExitStack() as stack:
        smtp_port = free_port()
        mail, smtp = start_sink(port=smtp_port)
        stack.callback(smtp.stop)
        database = stack.enter_context(postgres(work / "postgresql", free_port(), secrets_["db"]))
        shared = stack.enter_context(redis_server(work / "redis", free_port(), secrets_["redis"]))
        built = _built_home(work)
        nodes = []
        for name in ("a", "b"):
            home = work / f"keycloak-{name}" / "home"
            shutil.copytree(built, home, symlinks=True)
            nodes.append(Node(name, home, free_port(), free_port(), free_port()))
        env = {
            **os.environ,
            "JAVA_HOME": str(find_java_home()),
            "KC_BOOTSTRAP_ADMIN_CLIENT_ID": BOOTSTRAP_CLIENT,
            "KC_BOOTSTRAP_ADMIN_CLIENT_SECRET": secrets_["bootstrap"],
            "COLLECTE_PORTAL_URL": public_url,
            "COLLECTE_OIDC_CLIENT_SECRET": secrets_["oidc"],
            "COLLECTE_ADMIN_CLIENT_SECRET": secrets_["admin"],
            "COLLECTE_SMTP_HOST": "127.0.0.1",
            "COLLECTE_SMTP_PORT": str(smtp_port),
        }
        options = [
            f"--db-url={database.jdbc_url}",
            "--db-username=keycloak",
            f"--db-password={secrets_['db']}",
            "--http-enabled=true",
            "--http-host=127.0.0.1",
            f"--hostname={public_url}",
            "--proxy-headers=xforwarded",
            f"--truststore-paths={cert}",
            "--spi-brute-force-protector--default-brute-force-detector--allow-concurrent-requests=true",
            *SECURITY_NOTICES,
        ]
        for index, node in enumerate(nodes):
            # The first node imports the realm; the second joins the cluster it formed.
            node.start(env, [*options, "--import-realm"] if index == 0 else options)
            stack.callback(node.stop)
            node.wait_ready()
        admins = [admin_client(n.url, BOOTSTRAP_CLIENT, secrets_["bootstrap"]) for n in nodes]
        provision(admins[0])
        portal_ports = [free_port(), free_port()]
        nginx_dir = work / "nginx"
        nginx_dir.mkdir(exist_ok=True)
        config_file = nginx_dir / "nginx.conf"
        config_file.write_text(
            nginx_config(
                nginx_dir, proxy_port, cert, key, [n.http_port for n in nodes], portal_ports
            )
        )
        stack.enter_context(
            _process(
                [nginx, "-c", str(config_file), "-g", "daemon off;"],
                nginx_dir / "nginx.log",
                dict(os.environ),
            )
        )
        portal_config: dict[str, Any] = {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "KEYCLOAK_URL": public_url,
            "KEYCLOAK_REALM": schema.REALM,
            "OIDC_CLIENT_SECRET": secrets_["oidc"],
            "ADMIN_CLIENT_SECRET": secrets_["admin"],
            "PORTAL_URL": public_url,
            # The hosts share their sessions, their import jobs and their abuse-limit counters.
            "SESSION_REDIS_URL": shared.url(0),
            "TASKS_REDIS_URL": shared.url(1),
            "RATE_LIMIT_STORAGE_URI": shared.url(2),
            "FORWARDED_FOR_PROXIES": 1,  # nginx
            "IMPORT_STALE_SECONDS": IMPORT_STALE_SECONDS,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": env["COLLECTE_SMTP_PORT"],
        }
        portal_env = {
            **os.environ,
            **{f"COLLECTE_{key}": str(value) for key, value in portal_config.items()},
            "REQUESTS_CA_BUNDLE": str(cert),
            "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), str(PROJECT_ROOT / "keycloak")]),
        }
        portals = [
            PortalHost(f"portail-{number}", port, work, portal_env)
            for number, port in enumerate(portal_ports, start=1)
        ]
        for host in portals:
            host.start()
            stack.callback(host.stop)
        _wait_for(f"{public_url}/aide/connexion", cert, "Le portail")
        yield Topology(
            work,
            public_url,
            cert,
            database,
            nodes,
            portals,
            portal_config,
            admins,
            mail,
            time.monotonic() - started,
        )


def main() -> None:
    work = PROJECT_ROOT / ".data" / "production"
    shutil.rmtree(work, ignore_errors=True)
    with topology(work) as running:
        print(
            f"Topologie de production prête en {running.started_seconds:.0f} s : "
            f"{running.public_url} (certificat : {running.certificate}) — Ctrl+C pour tout "
            "arrêter.",
            flush=True,
        )
        with suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
