"""Fetch the pinned Keycloak distribution from Maven Central, once, into `.cache/`.

Maven is the ordinary client for Maven Central; it verifies the repository checksum, and we
check our own pinned SHA-256 on top so a changed artifact can never slip in silently.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from collecte_kc.paths import CACHE_DIR

KEYCLOAK_VERSION = "26.7.3"
KEYCLOAK_SHA256 = "27a6535553c3cdcd083872ba40629efafb3475e3b758e0c6f691395561dd0f1f"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


def keycloak_home() -> Path:
    return CACHE_DIR / f"keycloak-{KEYCLOAK_VERSION}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_distribution() -> Path:
    """Return the unpacked Keycloak home, downloading and unpacking it if needed."""
    home = keycloak_home()
    if (home / "bin" / "kc.sh").exists():
        return home
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    archive = CACHE_DIR / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
    if not archive.exists():
        if shutil.which("mvn") is None:
            raise SystemExit("Maven (mvn) est nécessaire pour télécharger Keycloak.")
        print(f"Téléchargement de Keycloak {KEYCLOAK_VERSION} depuis Maven Central…", flush=True)
        subprocess.run(  # noqa: S603 - fixed arguments
            [  # noqa: S607 - mvn from PATH is the documented prerequisite
                "mvn",
                "-q",
                "-B",
                f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
                f"-Dartifact={ARTIFACT}",
                f"-DoutputDirectory={CACHE_DIR}",
            ],
            check=True,
        )
    actual = _sha256(archive)
    if actual != KEYCLOAK_SHA256:
        archive.unlink()
        raise SystemExit(f"Empreinte SHA-256 inattendue pour {archive.name} : {actual}")
    staging = CACHE_DIR / f".unpack-{KEYCLOAK_VERSION}"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(staging)
    # zipfile drops the executable bit; kc.sh and its helpers need it back.
    for script in (staging / f"keycloak-{KEYCLOAK_VERSION}" / "bin").glob("*.sh"):
        script.chmod(0o755)
    (staging / f"keycloak-{KEYCLOAK_VERSION}").rename(home)
    staging.rmdir()
    return home


if __name__ == "__main__":
    print(ensure_distribution())
    sys.exit(0)
