"""The mutation check's list cannot rot silently: every guard's mutation applies to exactly one
place, and every test it names exists (a test moved to another module would otherwise make its
guard report ERROR only when someone runs the check)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.mutations.__main__ import GUARDS
from tests.mutations.guards import Guard

ROOT = Path(__file__).resolve().parents[3]


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("guard", GUARDS, ids=lambda guard: guard.name)
def test_each_guard_mutates_one_place_and_names_tests_that_exist(guard: Guard) -> None:
    assert (ROOT / guard.path).read_text(encoding="utf-8").count(guard.original) == 1
    for test in guard.tests:
        module, _, name = test.partition("::")
        assert (ROOT / module).is_file(), test
        assert name.split("[")[0] in _test_functions(ROOT / module), test


def test_guard_names_are_unique() -> None:
    names = [guard.name for guard in GUARDS]
    assert len(names) == len(set(names))
