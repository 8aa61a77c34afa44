"""Apply each guard's mutation in a scratch copy of the project, run its tests, print a table.

The copy holds the files git knows (tracked and untracked-not-ignored, so uncommitted work is
checked too) and, for Keycloak guards, its own copy of the distribution: a Keycloak start writes
into its home (our providers jar, the realm to import, Quarkus' build), so sharing the
worktree's would break it. Tests run with this virtualenv's interpreter and ``PYTHONPATH`` on the
copy; before running them we check that ``portal``, ``collecte_kc`` and ``tests`` really import
from the copy (the editable install points at the worktree).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.mutations.guards import PORTAL_GUARDS, Guard
from tests.mutations.keycloak_guards import KEYCLOAK_GUARDS

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = Path(".cache") / "keycloak-26.7.3"
LOGS = ROOT / ".data" / "mutations"
GUARDS = PORTAL_GUARDS + KEYCLOAK_GUARDS
UNIT_TIMEOUT = 300.0
KEYCLOAK_TIMEOUT = 1200.0


class MutationRot(RuntimeError):
    """The text to mutate is not in the file exactly once: the guard list must be updated."""


@dataclass
class Outcome:
    guard: Guard
    verdict: str  # CAUGHT, SURVIVED, TIMEOUT, ERROR
    seconds: float
    log: Path


def copy_project(target: Path, with_keycloak: bool) -> None:
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a deleted but still tracked file is skipped
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    if with_keycloak:
        home = target / DISTRIBUTION
        shutil.copytree(
            ROOT / DISTRIBUTION,
            home,
            symlinks=True,
            ignore=shutil.ignore_patterns("tmp", "transaction-logs"),
        )
        # The theme link points at the worktree's themes: recreated by the copy at start.
        (home / "themes" / "collecte").unlink(missing_ok=True)


def mutate(root: Path, guard: Guard) -> None:
    path = root / guard.path
    text = path.read_text(encoding="utf-8")
    found = text.count(guard.original)
    if found != 1:
        raise MutationRot(f"{guard.name}: {guard.original!r} found {found} times in {guard.path}")
    path.write_text(text.replace(guard.original, guard.mutated), encoding="utf-8")


def environment(copy: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": f"{copy}{os.pathsep}{copy / 'keycloak'}"}
    env.pop("PYTHONSAFEPATH", None)
    return env


def check_imports(copy: Path) -> None:
    code = (
        "import portal, collecte_kc, collecte_kc.paths, tests.conftest as c;"
        "print(portal.__file__); print(collecte_kc.__file__);"
        "print(collecte_kc.paths.PROJECT_ROOT / 'x'); print(c.__file__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=copy,
        env=environment(copy),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    strays = [where for where in out if not Path(where).resolve().is_relative_to(copy.resolve())]
    if strays:
        raise RuntimeError(f"imports outside the scratch copy {copy}: {strays}")


def run_tests(copy: Path, tests: tuple[str, ...], timeout: float, log: Path) -> str:
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=copy,
            env=environment(copy),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            # SIGTERM first: the test session then stops the Keycloak it started.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            return "TIMEOUT"
    # pytest: 0 all passed, 1 some failed; anything else (collection, usage) is no verdict.
    if code == 1 and not _a_test_failed(log):
        # Exit code 1 also covers errors in set-up (Keycloak not ready in time on a loaded
        # machine): the mutation was not seen by a test, so it is no catch.
        return "ERROR(set-up)"
    return {0: "SURVIVED", 1: "CAUGHT"}.get(code, f"ERROR({code})")


def _a_test_failed(log: Path) -> bool:
    """Whether pytest's last line (« 1 failed, 2 passed in 3.4s ») counts a failed test."""
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return bool(lines) and " failed" in f" {lines[-1]}"


def check(guard: Guard, timeout: float | None, baseline: bool) -> Outcome:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{guard.name}.log"
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"mutation-{guard.name}-") as scratch:
        copy = Path(scratch)
        copy_project(copy, guard.keycloak)
        check_imports(copy)
        limit = timeout or (KEYCLOAK_TIMEOUT if guard.keycloak else UNIT_TIMEOUT)
        if baseline:
            before = run_tests(copy, guard.tests, limit, LOGS / f"{guard.name}.baseline.log")
            if before != "SURVIVED":  # the unmutated tests must pass, or a failure means nothing
                return Outcome(guard, f"BASELINE-{before}", time.monotonic() - started, log)
        mutate(copy, guard)
        verdict = run_tests(copy, guard.tests, limit, log)
    return Outcome(guard, verdict, time.monotonic() - started, log)


def table(outcomes: list[Outcome]) -> str:
    rows = [("guard", "mutation", "tests", "result", "s")]
    for o in outcomes:
        tests = ", ".join(t.removeprefix("tests/") for t in o.guard.tests)
        rows.append((o.guard.name, o.guard.what, tests, o.verdict, f"{o.seconds:.0f}"))
    widths = [min(max(len(r[i]) for r in rows), 70) for i in range(5)]
    return "\n".join(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutations", description=__doc__)
    parser.add_argument("--only", default="", help="guard names, comma-separated")
    parser.add_argument("--unit", action="store_true", help="only guards without Keycloak")
    parser.add_argument("--list", action="store_true", help="list the guards and stop")
    parser.add_argument("--baseline", action="store_true", help="run the tests unmutated first")
    parser.add_argument("--timeout", type=float, help="seconds per guard (default 300 / 1200)")
    args = parser.parse_args(argv)
    names = {n.strip() for n in args.only.split(",") if n.strip()}
    unknown = names - {g.name for g in GUARDS}
    if unknown:
        parser.error(f"unknown guards: {', '.join(sorted(unknown))}")
    chosen = [
        g for g in GUARDS if (not names or g.name in names) and not (args.unit and g.keycloak)
    ]
    for guard in GUARDS:  # every listed mutation must still apply, even those not run
        text = (ROOT / guard.path).read_text(encoding="utf-8")
        if text.count(guard.original) != 1:
            raise MutationRot(f"{guard.name}: the text to mutate is not once in {guard.path}")
    if args.list:
        for g in chosen:
            print(f"{g.name:24} {g.path}  →  {', '.join(g.tests)}")
        return 0
    outcomes = []
    for guard in chosen:
        outcome = check(guard, args.timeout, args.baseline)
        print(
            f"{guard.name}: {outcome.verdict} in {outcome.seconds:.0f} s ({outcome.log})",
            flush=True,
        )
        outcomes.append(outcome)
    print(table(outcomes))
    return 0 if all(o.verdict == "CAUGHT" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
