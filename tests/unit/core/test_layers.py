"""The layers' import rules, read from the source with ``ast`` (nothing is imported):

- no module of ``portal/web`` imports python-keycloak: the Keycloak adapter
  (``portal.core.keycloak``) translates its exceptions (``portal.core.errors``);
- no module of ``portal/core`` imports the web stack (Flask, Flask-WTF, Authlib, Werkzeug);
- python-keycloak is imported in ``portal/core`` by the adapter only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[3] / "portal"
WEB_STACK = {"flask", "flask_wtf", "authlib", "werkzeug"}


def imported_roots(path: Path) -> set[str]:
    """Top-level package of every absolute import of the module (``import a.b``, ``from a.b
    import c``), at any depth of the module (functions included)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def modules(folder: str) -> list[Path]:
    return sorted((PORTAL / folder).rglob("*.py"))


def _id(path: Path) -> str:
    return str(path.relative_to(PORTAL))


@pytest.mark.parametrize("module", modules("web"), ids=_id)
def test_no_web_module_imports_python_keycloak(module: Path) -> None:
    assert "keycloak" not in imported_roots(module)


@pytest.mark.parametrize("module", modules("core"), ids=_id)
def test_no_core_module_imports_the_web_stack(module: Path) -> None:
    assert not imported_roots(module) & WEB_STACK


@pytest.mark.parametrize("module", modules("core"), ids=_id)
def test_only_the_adapter_imports_python_keycloak(module: Path) -> None:
    if (PORTAL / "core" / "keycloak") in module.parents:
        return
    assert "keycloak" not in imported_roots(module)


def test_the_rules_see_an_import() -> None:
    """The walker finds imports inside functions too (a rule that sees nothing proves nothing)."""
    assert "keycloak" in imported_roots(PORTAL / "core" / "keycloak" / "connection.py")
    assert "flask" in imported_roots(PORTAL / "web" / "errors.py")
