"""Start, wait for and stop a real Keycloak server from the pinned distribution.

The dev run and the test session share this code: only the ports, the data folder and the
environment handed to the realm import differ.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from collecte_kc.dist import ensure_distribution
from collecte_kc.paths import PASSWORD_BLACKLISTS_DIR, REALM_FILE, THEMES_DIR
from collecte_kc.providers import ensure_providers_jar, install_providers_jar

# Keycloak 26.7 runs on 17, 21 and 25; the newest one found wins.
JDK_PREFERENCE = ("25", "21", "17")
#: Keycloak's heap in the dev run and the tests (``JAVA_OPTS_KC_HEAP`` in the environment
#: replaces it). kc.sh's default outside a container, ``-Xms64m -Xmx512m``, made the garbage
#: collector a large share of Keycloak's work: three imports of 10,000 rows in a row (the command
#: of benchmarks/bulk_import.py, 2026-12-07) took 32.6, 21.5 and 20.2 s and 53.4, 32.0 and 29.1 s
#: of Keycloak's processor with it, 28.1, 19.4 and 17.3 s and 45.9, 28.1 and 23.6 s with 1 GB;
#: 2 GB did no better.
DEV_HEAP = "-Xms1g -Xmx1g"
JVM_ROOT = Path("/usr/lib/jvm")
THEME_NAME = "collecte"
#: The security notices mailed by Keycloak's own « email » event listener (enabled in the realm's
#: eventsListeners): a password or second factor set or removed, an account locked for a while.
#: Not LOGIN_ERROR (one of its defaults): a mail per wrong password would flood a mailbox.
SECURITY_NOTICES = [
    "--spi-events-listener--email--include-events="
    "UPDATE_CREDENTIAL,REMOVE_CREDENTIAL,USER_DISABLED_BY_TEMPORARY_LOCKOUT",
]


class KeycloakStartError(RuntimeError):
    """Keycloak exited or did not become ready; the message says where its log is."""


def find_java_home() -> Path:
    """Pick a supported JDK: $JAVA_HOME if set, else the newest of 25/21/17 under /usr/lib/jvm."""
    if os.environ.get("JAVA_HOME"):
        return Path(os.environ["JAVA_HOME"])
    candidates = sorted(JVM_ROOT.glob("*")) if JVM_ROOT.is_dir() else []
    for major in JDK_PREFERENCE:
        for jdk in candidates:
            name = jdk.name
            if (jdk / "bin" / "java").exists() and (f"-{major}-" in name or f"-{major}." in name):
                return jdk
    java = shutil.which("java")
    if java is None:
        raise KeycloakStartError("Aucun JDK trouvé : installez Java 17, 21 ou 25.")
    return Path(java).resolve().parents[1]


@dataclass
class KeycloakServer:
    """One Keycloak process with its own ports and data folder."""

    data_dir: Path
    http_port: int = 8080
    management_port: int = 9000
    bootstrap_client_id: str = "collecte-bootstrap"
    bootstrap_client_secret: str = ""
    # A human admin for the master console in the dev run; tests need none.
    bootstrap_admin: tuple[str, str] | None = None
    realm_env: dict[str, str] = field(default_factory=dict)
    # Tests cache themes as production does; the dev run does not, so theme edits show at once.
    cache_themes: bool = True
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.http_port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "keycloak.log"

    def _prepare_home(self) -> Path:
        home = ensure_distribution()
        theme_link = home / "themes" / THEME_NAME
        if not theme_link.is_symlink():
            theme_link.unlink(missing_ok=True)
            theme_link.symlink_to(THEMES_DIR / THEME_NAME, target_is_directory=True)
        # Our authenticators (keycloak/providers); start-dev re-augments when the jar changed.
        install_providers_jar(ensure_providers_jar(home, find_java_home()), home / "providers")
        import_dir = home / "data" / "import"
        import_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REALM_FILE, import_dir / "collecte-realm.json")
        # Keycloak reads the lists named by `passwordBlacklist(...)` from <data>/password-blacklists
        # (its default folder); without the file, every password change fails.
        blacklists = home / "data" / "password-blacklists"
        blacklists.mkdir(parents=True, exist_ok=True)
        for listed in PASSWORD_BLACKLISTS_DIR.glob("*.txt"):
            shutil.copyfile(listed, blacklists / listed.name)
        return home

    def start(self) -> None:
        if not self.bootstrap_client_secret:
            raise KeycloakStartError("Le secret du client d'amorçage (bootstrap) est obligatoire.")
        home = self._prepare_home()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **self.realm_env,
            "JAVA_HOME": str(find_java_home()),
            # The H2 file database lives in our data folder so a restart keeps everything.
            "JAVA_OPTS_APPEND": f"-Dkc.db-url-path={self.data_dir}",
            "JAVA_OPTS_KC_HEAP": os.environ.get("JAVA_OPTS_KC_HEAP") or DEV_HEAP,
            "KC_BOOTSTRAP_ADMIN_CLIENT_ID": self.bootstrap_client_id,
            "KC_BOOTSTRAP_ADMIN_CLIENT_SECRET": self.bootstrap_client_secret,
        }
        if self.bootstrap_admin is not None:
            env["KC_BOOTSTRAP_ADMIN_USERNAME"], env["KC_BOOTSTRAP_ADMIN_PASSWORD"] = (
                self.bootstrap_admin
            )
        command = [
            str(home / "bin" / "kc.sh"),
            "start-dev",
            "--import-realm",
            "--db=dev-file",
            f"--http-port={self.http_port}",
            f"--http-management-port={self.management_port}",
            "--http-host=127.0.0.1",
            "--health-enabled=true",
            f"--hostname={self.url}",
            f"--spi-theme--cache-themes={str(self.cache_themes).lower()}",
            f"--spi-theme--cache-templates={str(self.cache_themes).lower()}",
            *SECURITY_NOTICES,
            # Brute-force detection stays on (realm settings), but a second correct login of
            # the same user while one is in progress (a shared mailbox, a double submit) is
            # no longer refused as « mot de passe invalide »: see README, « Connexions
            # simultanées ».
            "--spi-brute-force-protector--default-brute-force-detector--allow-concurrent-requests=true",
        ]
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - arguments built above
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def wait_ready(self, timeout: float = 240.0) -> float:
        """Poll the health endpoint until ready; return the seconds it took."""
        return wait_until_ready(self.process, self.management_port, self.log_file, timeout)

    def stop(self, timeout: float = 30.0) -> None:
        stop_process(self.process, timeout)


def wait_until_ready(
    process: subprocess.Popen[bytes] | None, management_port: int, log_file: Path, timeout: float
) -> float:
    """Poll a Keycloak's health endpoint until it is ready; return the seconds it took."""
    started = time.monotonic()
    ready_url = f"http://127.0.0.1:{management_port}/health/ready"
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise KeycloakStartError(
                f"Keycloak s'est arrêté (code {process.returncode}) ; journal : {log_file}"
            )
        try:
            if requests.get(ready_url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise KeycloakStartError(
        f"Keycloak n'est pas prêt après {timeout:.0f} s ; journal : {log_file}"
    )


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    """SIGTERM to a Keycloak's process group, SIGKILL after ``timeout`` seconds."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
