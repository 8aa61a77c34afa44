"""The portal hosts' shared store for the production topology (collecte_kc.production): Debian's
``redis-server``, loopback only, a data folder of its own (append-only file: an acknowledged
write survives a restart), a password, stopped with the topology.

It holds what makes the portal hosts interchangeable: the sessions, the import jobs' queue and
state, the abuse-limit counters (one database each)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from collecte_kc.server import stop_process


class RedisError(RuntimeError):
    """Redis is missing or did not start; the message says why, in French."""


@dataclass(frozen=True)
class RedisServer:
    port: int
    password: str

    def url(self, database: int) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{database}"


@contextmanager
def redis_server(folder: Path, port: int, password: str) -> Iterator[RedisServer]:
    program = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(program).exists():
        raise RedisError(
            "Redis est nécessaire : installez le paquet Debian « redis-server » "
            "(./keycloak/bootstrap.sh --browser le fait)."
        )
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "redis.conf"
    config.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                f"dir {folder}",
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                f"requirepass {password}",
                f"logfile {folder / 'redis.log'}",
                "",
            ]
        )
    )
    config.chmod(0o600)  # the password
    process = subprocess.Popen(  # noqa: S603 - Debian's server, our configuration
        [program, str(config)], start_new_session=True
    )
    server = RedisServer(port, password)
    try:
        _wait_ready(process, server)
        yield server
    finally:
        stop_process(process, 10)


def _wait_ready(process: subprocess.Popen[bytes], server: RedisServer, timeout: float = 30) -> None:
    from redis import Redis
    from redis.exceptions import RedisError as ClientError

    deadline = time.monotonic() + timeout
    client = Redis.from_url(server.url(0), socket_timeout=1)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RedisError(f"Redis s'est arrêté au démarrage (code {process.returncode}).")
        try:
            if client.ping():
                return
        except ClientError:
            time.sleep(0.1)
    raise RedisError(f"Redis ne répond pas sur le port {server.port}.")
