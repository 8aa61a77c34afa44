"""Every figure of issue 14 in one run, each next to its baseline of the same run, written to
``benchmarks/RESULTS.md``.

    .venv/bin/python -m benchmarks            # the full run (≈ 22 min on 2 cores; 33 at most)
    .venv/bin/python -m benchmarks --quick    # a smoke run (≈ 6 min), written to RESULTS-quick.md

Starts a throwaway platform (collecte_kc.sandbox: Keycloak on a fresh H2 folder, loopback only),
then: (a) pages under load, (b) sign-ins, (e) memory — benchmarks/web.py; (c) follow-up, (d) bulk
import, (f) Keycloak's start — benchmarks/heavy.py; (g) the production topology under a mixed
load next to the dev run — benchmarks/topology.py; and the two earlier measures of
benchmarks/run.py (« Mot de passe oublié » known vs unknown, token reuse). Not part of pytest.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import heavy, run, topology, web
from benchmarks.report import Figure, Section, machine, render
from collecte_kc.dist import ensure_distribution
from collecte_kc.sandbox import Sandbox, sandbox
from collecte_kc.server import KeycloakServer, find_java_home
from portal import create_app

HERE = Path(__file__).resolve().parent
START_LIMIT = 600.0


@dataclass(frozen=True)
class Plan:
    settings: web.Settings
    follow_up_people: int
    bulk_rows: int
    profiled_rows: int
    one_by_one_rows: int
    reset_rounds: int
    token_calls: int
    warm_start: bool
    time_limit: int  # seconds: the run stops there, whatever it was doing
    output: Path
    load_seconds: tuple[float, float] = (60, 300)  # (g): on the dev run, on the topology


FULL = Plan(
    web.Settings(6, 30, 300), 3000, 10_000, 1000, 2000, 4, 100, True, 33 * 60, HERE / "RESULTS.md"
)
QUICK = Plan(
    web.Settings(3, 6, 100),
    300,
    500,
    200,
    200,
    2,
    20,
    False,
    12 * 60,
    HERE / "RESULTS-quick.md",
    (20, 30),
)


def _versions() -> tuple[str, str]:
    home = ensure_distribution()
    keycloak = re.sub(r"^keycloak-", "", home.name)
    java = subprocess.run(  # noqa: S603 - the JDK found for Keycloak
        [str(find_java_home() / "bin" / "java"), "-version"],
        capture_output=True,
        text=True,
        check=False,
    ).stderr.splitlines()
    return keycloak, (java[0] if java else "?")


def _earlier_measures(platform: Sandbox, plan: Plan) -> Section:
    section = Section("Mesures antérieures (benchmarks/run.py)")
    known, unknown = run.reset_timing(platform, plan.reset_rounds)
    section.add(
        Figure(
            "« Mot de passe oublié », e-mail connu (médiane)",
            known * 1000,
            "ms",
            unknown * 1000,
            "e-mail inconnu",
            "rapport ≈ 1",
        )
    )
    (reused, _), (fresh, _) = run.token_reuse(platform, plan.token_calls)
    section.add(
        Figure(
            "appel d'administration, jeton réutilisé",
            reused * 1000,
            "ms",
            fresh * 1000,
            "jeton neuf à chaque appel",
        )
    )
    return section


def _patient_start() -> None:
    """A shared, loaded machine may take Keycloak longer than the tests' 240 s to start."""
    wait_ready = KeycloakServer.wait_ready

    def patient(self: KeycloakServer, timeout: float = START_LIMIT) -> float:
        return float(wait_ready(self, max(timeout, START_LIMIT)))

    KeycloakServer.wait_ready = patient


def _alarm(signum: int, frame: object) -> None:
    raise TimeoutError("durée maximale des mesures dépassée")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="mesure réduite, de contrôle")
    arguments = parser.parse_args(argv)
    plan = QUICK if arguments.quick else FULL
    started_at, started = datetime.now(UTC), time.monotonic()
    keycloak_version, java = _versions()
    host = machine(keycloak_version, java)
    _patient_start()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(plan.time_limit)
    sections: list[Section] = []
    data = Path(tempfile.mkdtemp(prefix="bench-keycloak-"))
    fresh = float("nan")
    try:
        with sandbox(data, create_app) as platform:
            fresh = platform.startup_seconds
            print(f"Keycloak prêt en {fresh:.1f} s", flush=True)
            pages, signins, memory = web.pages_and_signins(platform, plan.settings)
            sections += [pages, signins]
            print("(c) suivi", flush=True)
            sections.append(heavy.follow_up_section(platform, plan.follow_up_people))
            print("(d) import en masse", flush=True)
            sections.append(
                heavy.bulk_section(
                    platform, plan.bulk_rows, plan.profiled_rows, plan.one_by_one_rows
                )
            )
            sections.append(memory)
            print("mesures antérieures", flush=True)
            sections.append(_earlier_measures(platform, plan))
            print("(g) charge mixte : lancement de dév.", flush=True)
            dev_load = topology.dev_run(platform, plan.load_seconds[0])
        warm = heavy.warm_start(data) if plan.warm_start else None
        sections.insert(-1, heavy.start_section(fresh, warm))
        print("(g) charge mixte : topologie de production", flush=True)
        production = topology.production_run(plan.load_seconds[1])
        sections.insert(-1, topology.section(dev_load, *production))
    except TimeoutError:
        # what was measured until then is still written, and said to be incomplete
        stopped = Section("Exécution interrompue")
        stopped.notes.append(
            f"Durée maximale ({plan.time_limit // 60} min) atteinte : les mesures manquantes "
            "n'ont pas pu être faites."
        )
        sections.append(stopped)
    finally:
        signal.alarm(0)
    command = ".venv/bin/python -m benchmarks" + (" --quick" if arguments.quick else "")
    text = render(
        started_at,
        time.monotonic() - started,
        host,
        sections,
        command,
        provisional=host.load_average[0] > 0.5,
    )
    plan.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"Écrit dans {plan.output}")
