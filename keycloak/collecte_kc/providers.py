"""Build the project's Keycloak providers (`keycloak/providers/`) into one jar, without Maven.

The sources are a handful of files compiled against the jars of the pinned distribution itself,
so `javac` and `jar` from the chosen JDK are enough. The jar is named after a digest of the
sources and of the Keycloak version: it is rebuilt only when one of them changed, and a jar in
`.cache/` is never stale.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from collecte_kc.dist import KEYCLOAK_VERSION
from collecte_kc.paths import CACHE_DIR, PROVIDERS_DIR

JAR_PREFIX = "collecte-providers-"
# Keycloak 26 runs on Java 17 at the least, whatever JDK compiles.
JAVA_RELEASE = "17"


class ProviderBuildError(RuntimeError):
    """No javac/jar in the JDK, or they failed (their own output, printed above, says why)."""


def _source_files(sources: Path) -> list[Path]:
    return sorted(path for path in sources.rglob("*") if path.is_file())


def sources_digest(sources: Path = PROVIDERS_DIR / "src" / "main") -> str:
    """First 16 hex digits of the SHA-256 of every source file (path and content)."""
    digest = hashlib.sha256(KEYCLOAK_VERSION.encode())
    for path in _source_files(sources):
        digest.update(path.relative_to(sources).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _run(command: list[str]) -> None:
    if not Path(command[0]).exists():
        raise ProviderBuildError(
            f"{command[0]} introuvable : il faut un JDK complet (pas un JRE), ou JAVA_HOME."
        )
    try:
        subprocess.run(command, check=True)  # noqa: S603 - JDK tools with our own paths
    except subprocess.CalledProcessError as error:
        message = f"Échec de la construction des providers : {Path(command[0]).name}"
        raise ProviderBuildError(message) from error


def ensure_providers_jar(
    keycloak_home: Path,
    java_home: Path,
    *,
    sources: Path = PROVIDERS_DIR / "src" / "main",
    cache_dir: Path = CACHE_DIR,
) -> Path:
    """Return `.cache/collecte-providers-<digest>.jar`, compiling it first if it is missing."""
    jar = cache_dir / f"{JAR_PREFIX}{sources_digest(sources)}.jar"
    if jar.exists():
        return jar
    cache_dir.mkdir(parents=True, exist_ok=True)
    libraries = keycloak_home / "lib" / "lib"
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".providers-") as work:
        classes = Path(work) / "classes"
        _run(
            [
                str(java_home / "bin" / "javac"),
                "--release",
                JAVA_RELEASE,
                "-encoding",
                "UTF-8",
                "-d",
                str(classes),
                "-cp",
                os.pathsep.join([str(libraries / "main" / "*"), str(libraries / "boot" / "*")]),
                *(str(path) for path in _source_files(sources / "java") if path.suffix == ".java"),
            ]
        )
        shutil.copytree(sources / "resources", classes, dirs_exist_ok=True)
        built = Path(work) / jar.name
        _run(
            [str(java_home / "bin" / "jar"), "--create", f"--file={built}", "-C", str(classes), "."]
        )
        # Renamed only once complete: an interrupted build never leaves a jar that looks done.
        built.replace(jar)
    for older in cache_dir.glob(f"{JAR_PREFIX}*.jar"):
        if older != jar:
            older.unlink()
    return jar


def install_providers_jar(jar: Path, providers_dir: Path) -> None:
    """Put `jar` in Keycloak's `providers/`, in place of any other build of ours.

    An unchanged jar is left as it is: Keycloak compares the providers' dates at each start and
    re-augments (a slow start) when one changed.
    """
    providers_dir.mkdir(parents=True, exist_ok=True)
    for older in providers_dir.glob(f"{JAR_PREFIX}*.jar"):
        if older.name != jar.name:
            older.unlink()
    target = providers_dir / jar.name
    if not target.exists():
        partial = providers_dir / f".{jar.name}.partial"
        shutil.copyfile(jar, partial)
        partial.replace(target)


if __name__ == "__main__":
    from collecte_kc.dist import ensure_distribution
    from collecte_kc.server import find_java_home

    print(ensure_providers_jar(ensure_distribution(), find_java_home()))
    sys.exit(0)
