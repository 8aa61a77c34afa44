"""The core (``portal.core``) and the operations tooling import without the web stack.

Each check runs in a fresh interpreter whose imports of Flask and its companions fail, as if they
were not installed: a ``sitecustomize`` put first on ``PYTHONPATH`` adds a finder refusing them
before anything else is imported. A module of the core, or a command line of the tooling, that
reached the web application (even through a neighbour) fails here with the chain that led to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
#: The web stack: the portal's front end needs them, nothing else may.
WEB_PACKAGES = ("flask", "flask_wtf", "flask_session", "authlib", "werkzeug", "wtforms")
#: The tooling that works on the core alone, and the sandbox, which serves the portal its caller
#: builds (``portal.create_app``) without importing it. The platform and the demo application
#: run Flask applications, by design.
TOOLING = (
    "collecte_kc.bulk_import",
    "collecte_kc.coordinators",
    "collecte_kc.provision",
    "collecte_kc.applications",
    "collecte_kc.demo",
    "collecte_kc.sandbox",
)

BLOCKER = f"""
import importlib.abc
import sys

BLOCKED = {WEB_PACKAGES!r}


class _WebStackAbsent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{{name}} is blocked: no web stack here", name=name)
        return None


sys.meta_path.insert(0, _WebStackAbsent())
"""

IMPORT_ALL = f"""
import importlib
import pkgutil
import traceback

import portal.core

names = ["portal.core"] + [
    info.name for info in pkgutil.walk_packages(portal.core.__path__, "portal.core.")
]
names += {TOOLING!r}
failed = []
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name)
        print(f"--- {{name}}", traceback.format_exc(), sep="\\n")
print("imported:", len(names) - len(failed), "failed:", failed)
raise SystemExit(1 if failed else 0)
"""


@pytest.fixture
def without_web(tmp_path: Path) -> dict[str, str]:
    """The environment of a child interpreter in which the web stack cannot be imported."""
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, "utf-8")
    path = os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_blocker_does_block_the_web_stack(without_web: dict[str, str]) -> None:
    """Otherwise the two tests below would prove nothing."""
    for package in WEB_PACKAGES:
        done = _run(["-c", f"import {package}"], without_web)
        assert done.returncode != 0, package
        assert "blocked: no web stack here" in done.stderr


def test_every_core_module_and_the_tooling_import_without_the_web_stack(
    without_web: dict[str, str],
) -> None:
    done = _run(["-c", IMPORT_ALL], without_web)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed: []" in done.stdout


def test_the_bulk_import_command_runs_without_the_web_stack(without_web: dict[str, str]) -> None:
    done = _run(["-m", "collecte_kc.bulk_import", "--help"], without_web)
    assert done.returncode == 0, done.stderr
    assert "--appliquer" in done.stdout
