"""A throwaway PostgreSQL server for the production topology (collecte_kc.production): Debian's
package (``postgresql``), a data folder of its own, loopback only, stopped with it.

PostgreSQL refuses to run as root: when this runs as root, the server runs as the ``postgres``
account the Debian package creates, in a folder given to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

#: Debian's binaries (``postgresql`` pulls the current major version).
BIN_ROOT = Path("/usr/lib/postgresql")
DATABASE = "keycloak"
USER = "keycloak"


class PostgresError(RuntimeError):
    """PostgreSQL is missing or did not start; the message says why, in French."""


def binaries() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin``."""
    found = sorted(
        (path for path in BIN_ROOT.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresError(
            "PostgreSQL est nécessaire : installez le paquet Debian « postgresql » "
            "(./keycloak/bootstrap.sh --production le fait)."
        )
    return found[-1]


def _as_server_account(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresError("runuser est introuvable : impossible de lancer PostgreSQL hors root.")
    return [runuser, "-u", "postgres", "--", *command]


@dataclass
class Postgres:
    data_dir: Path
    port: int
    password: str

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *command: str) -> None:
        result = subprocess.run(  # noqa: S603 - Debian's binaries, our arguments
            _as_server_account(list(command)), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise PostgresError(f"{command[0]} : {result.stderr.strip() or result.stdout.strip()}")

    def initialise(self) -> None:
        """A new cluster whose only account, ``keycloak``, has ``password``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        password_file = self.data_dir.parent / "pg-password"
        password_file.write_text(self.password)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres")
            shutil.chown(password_file, "postgres")
        self._run(
            str(binaries() / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            USER,
            "--pwfile",
            str(password_file),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--no-sync",
        )
        password_file.unlink()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1"
        self._run(
            str(binaries() / "pg_ctl"),
            "--pgdata",
            str(self.data_dir),
            "--options",
            options,
            "--log",
            str(self.data_dir / "postgresql.log"),
            "--wait",
            "start",
        )

    def create_database(self) -> None:
        self._client("createdb", DATABASE)

    def _client(self, tool: str, *arguments: str) -> None:
        """One of PostgreSQL's client tools, as ``keycloak`` over TCP (not the server account)."""
        command = [
            str(binaries() / tool),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--username",
            USER,
            *arguments,
        ]
        result = subprocess.run(  # noqa: S603 - Debian's client tools, our arguments
            command,
            capture_output=True,
            text=True,
            env={**os.environ, "PGPASSWORD": self.password},
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(f"{tool} : {result.stderr.strip()}")

    def dump(self, path: Path) -> None:
        """A backup of Keycloak's database (``pg_dump``, custom format), Keycloak running."""
        self._client("pg_dump", "--format=custom", f"--file={path}", DATABASE)

    def restore(self, path: Path) -> None:
        """Keycloak's database replaced by the backup ``path`` (every Keycloak node stopped)."""
        self._client("dropdb", "--if-exists", DATABASE)
        self._client("createdb", DATABASE)
        self._client("pg_restore", "--no-owner", f"--dbname={DATABASE}", str(path))

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(binaries() / "pg_ctl"), "--pgdata", str(self.data_dir), "--mode", mode, "stop"
        )


@contextmanager
def postgres(data_dir: Path, port: int, password: str) -> Iterator[Postgres]:
    """A fresh server with the database ``keycloak``, stopped on exit. Run as root, its folder
    is one of its own in the temporary folder instead (``data_dir`` may be under folders the
    ``postgres`` account cannot enter, as pytest's are), removed on exit."""
    own = None
    if os.geteuid() == 0:
        own = Path(tempfile.mkdtemp(prefix="collecte-postgresql-"))
        shutil.chown(own, "postgres")
        data_dir = own / "data"
    server = Postgres(data_dir, port, password)
    server.initialise()
    server.start()
    try:
        server.create_database()
        yield server
    finally:
        with suppress(PostgresError):  # already stopped (a test stopped it)
            server.stop("immediate")
        if own is not None:
            shutil.rmtree(own, ignore_errors=True)
