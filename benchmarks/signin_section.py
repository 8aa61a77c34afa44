"""(b) Complete sign-ins through the portal against Keycloak alone, and where the processor time
of a sign-in goes.

Measured twice, each time Keycloak alone and through the portal in turns (drift of the machine
hits both alike): with the machine's cores shared by Keycloak, the portal and the load client, as
the dev run has them — on 2 saturated cores the ratio of the rates then follows the processor time
each sign-in costs — and with Keycloak on a core of its own, the portal and the load client on
the other, as production has them on different hosts (docker-compose.yml, the topology of (g)).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from benchmarks import population
from benchmarks.lean_browser import LeanBrowser
from benchmarks.load import children, cpu_seconds
from benchmarks.report import Figure, Section, ratio
from benchmarks.signins import (
    SignInRun,
    Timings,
    concurrent,
    keycloak_sign_in,
    portal_sign_in,
    signed_in_through_portal,
)
from collecte_kc.sandbox import Sandbox
from tests.helpers.signin import signin_client

GOAL_RATIO = 0.95
GOAL = "≥ 0,95 × Keycloak seul"
#: Keycloak's sign-ins keep getting cheaper for about a minute of sign-ins after its start (its
#: JIT compiler; measured on 2026-12-07: 74 then 50, 41, 35, 33.5 ms of its processor per sign-in
#: over five windows of 16 s): measured once the rate of Keycloak alone is steady, that is
#: once ``STEADY_WINDOWS`` windows of ``WARM_WINDOW`` seconds in a row are within ``STEADY`` of
#: each other, giving up after ``WARM_LIMIT`` seconds.
WARM_WINDOW = 5.0
STEADY_WINDOWS = 3
STEADY = 0.05
WARM_LIMIT = 150.0
#: Windows through the portal per measure, taken in turns with Keycloak alone (one 12 s window
#: between two of 6 s gave 0.94 to 1.05 from one run to the next with Keycloak on its own core).
ROUNDS = 3


@dataclass(frozen=True)
class Measured:
    """A run of sign-ins and the processor time each side used for it, per sign-in (ms)."""

    run: SignInRun
    keycloak_ms: float
    portal_ms: float
    client_ms: float

    @classmethod
    def combined(cls, parts: list[Measured]) -> Measured:
        """Several runs as one: their sign-ins and seconds added, processor per sign-in
        weighted by the sign-ins of each."""
        completed = sum(part.run.completed for part in parts)

        def per_sign_in(ms: Callable[[Measured], float]) -> float:
            return sum(ms(part) * part.run.completed for part in parts) / max(completed, 1)

        run = SignInRun(
            completed,
            sum(part.run.failed for part in parts),
            sum(part.run.seconds for part in parts),
            tuple(timing for part in parts for timing in part.run.timings),
        )
        return cls(
            run,
            per_sign_in(lambda part: part.keycloak_ms),
            per_sign_in(lambda part: part.portal_ms),
            per_sign_in(lambda part: part.client_ms),
        )


@dataclass(frozen=True)
class Processes:
    keycloak: list[int]
    portal: list[int]

    def measured(
        self, users: list[str], seconds: float, sign_in: Callable[[str], Timings]
    ) -> Measured:
        before = cpu_seconds(self.keycloak), cpu_seconds(self.portal), time.process_time()
        run = concurrent(users, seconds, sign_in)
        after = cpu_seconds(self.keycloak), cpu_seconds(self.portal), time.process_time()
        per = 1000 / max(run.completed, 1)
        used = [(end - start) * per for start, end in zip(before, after, strict=True)]
        return Measured(run, *used)


def _pin(pid: int, cpus: set[int]) -> None:
    """Every thread of the process on these cores (threads made later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(ProcessLookupError, PermissionError):  # a thread that just ended
            os.sched_setaffinity(int(task.name), cpus)


@contextmanager
def separated(processes: Processes) -> Iterator[bool]:
    """Keycloak on the first core, the portal and this process (the load client) on the
    others; all back on every core afterwards. Yields False where there is only one core."""
    every = os.sched_getaffinity(0)
    if len(every) < 2:
        yield False
        return
    first = min(every)
    others = every - {first}
    placed = [(pid, {first}) for pid in processes.keycloak]
    placed += [(pid, others) for pid in [*processes.portal, os.getpid()]]
    try:
        for pid, cpus in placed:
            _pin(pid, cpus)
        yield True
    finally:
        for pid, _ in placed:
            _pin(pid, every)


def warmed_up(users: list[str], alone: Callable[[str], Timings]) -> tuple[float, list[float]]:
    """Sign-ins with Keycloak alone until their rate is steady (see ``WARM_WINDOW``); returns
    the seconds spent and the rate of each window."""
    rates: list[float] = []
    started = time.monotonic()
    while time.monotonic() - started < WARM_LIMIT:
        rates.append(concurrent(users, WARM_WINDOW, alone).per_second)
        last = rates[-STEADY_WINDOWS:]
        if len(last) == STEADY_WINDOWS and max(last) <= (1 + STEADY) * min(last):
            break
    return time.monotonic() - started, rates


def _rounds(
    processes: Processes,
    users: list[str],
    seconds: float,
    alone: Callable[[str], Timings],
    portal: Callable[[str], Timings],
) -> tuple[Measured, Measured]:
    """Keycloak alone and through the portal, `seconds` each, taken in turns (``ROUNDS`` windows
    through the portal, each between two of Keycloak alone): a change of Keycloak's speed during
    the measure (its compiler, its collector) falls on both alike."""
    alone_runs = [processes.measured(users, seconds / (ROUNDS + 1), alone)]
    through_runs = []
    for _ in range(ROUNDS):
        through_runs.append(processes.measured(users, seconds / ROUNDS, portal))
        alone_runs.append(processes.measured(users, seconds / (ROUNDS + 1), alone))
    return Measured.combined(alone_runs), Measured.combined(through_runs)


def section(
    platform: Sandbox,
    portal_url: str,
    users: list[str],
    seconds: float,
    keycloak_pid: int | None,
    gunicorn_master: int,
) -> Section:
    password = population.PASSWORD
    for email in users:  # first sign-in: the CGU accepted once, out of the measure
        portal_sign_in(portal_url, email, password)
    processes = Processes(
        [keycloak_pid] if keycloak_pid else [], [gunicorn_master, *children(gunicorn_master)]
    )
    with signin_client(platform.admin) as client:

        def alone(email: str) -> Timings:
            return keycloak_sign_in(platform.keycloak_url, client, email, password)

        def portal(email: str) -> Timings:
            return signed_in_through_portal(LeanBrowser(), portal_url, email, password)

        warming, rates = warmed_up(users, alone)
        shared = _rounds(processes, users, seconds, alone, portal)
        with separated(processes) as apart:
            own_core = _rounds(processes, users, seconds, alone, portal) if apart else None
    result = Section(
        f"(b) Connexions complètes, {len(users)} personnes distinctes à la fois, {seconds:.0f} s "
        f"par le portail et autant pour Keycloak seul, à tour de rôle ({ROUNDS} × "
        f"{seconds / ROUNDS:.0f} s entre {ROUNDS + 1} × {seconds / (ROUNDS + 1):.1f} s)"
    )
    _rates(result, shared, "cœurs partagés (lancement de dév.)")
    if own_core is not None:
        _rates(result, own_core, "Keycloak sur un cœur à lui (hôtes séparés)")
    where_time_goes(result, shared)
    result.notes.append(
        f"Mesuré après {warming:.0f} s de connexions à Keycloak seul, jusqu'à un débit stable "
        f"({STEADY_WINDOWS} fenêtres de {WARM_WINDOW:.0f} s à moins de {STEADY:.0%} l'une de "
        "l'autre ; débits successifs : "
        + ", ".join(f"{rate:.1f}" for rate in rates)
        + " /s) : Keycloak compile encore ses chemins chauds pendant les premières minutes de "
        "connexions (mesuré à part le 2026-12-07 : de 74 à 33 ms de son processeur par "
        "connexion en 100 s, ou encore 72 ms après 90 s selon ce qu'il a compilé)."
    )
    result.notes.append(
        "Portail : GET /connexion, page de connexion de Keycloak, mot de passe, rappel "
        "/auth/callback (échange du code, session du portail), première page. Keycloak seul : "
        "même page et même mot de passe pour un client public du même realm, puis l'échange du "
        "code, sur une connexion gardée ouverte comme le portail garde la sienne. Le portail "
        "parle directement à Keycloak, comme Keycloak seul (le mandataire qui compte les appels"
        " des pages n'y est pas). « Cœurs partagés » : Keycloak, le portail et le client de "
        "charge (un client HTTP minimal, benchmarks/lean_browser.py, qui leur prend le moins de"
        " processeur possible) sur les mêmes cœurs, saturés — le rapport des débits y suit "
        "celui des temps processeur par connexion (lignes « processeur », temps utilisateur et "
        "système lus dans /proc). « Hôtes séparés » : Keycloak seul sur le premier cœur, le "
        "portail et le client sur l'autre (sched_setaffinity), comme en production où le "
        "portail ne prend pas le processeur de Keycloak."
    )
    return result


def _rates(result: Section, runs: tuple[Measured, Measured], where: str) -> None:
    alone, through = (measured.run for measured in runs)
    alone_rate = alone.per_second
    result.add(Figure(f"Keycloak seul, {where} : connexions/s", alone_rate, "/s"))
    result.add(
        Figure(
            f"par le portail, {where} : connexions/s",
            through.per_second,
            "/s",
            alone_rate,
            "Keycloak seul",
            GOAL,
            ratio(through.per_second, alone_rate) >= GOAL_RATIO,
            note=f"{through.failed + alone.failed} échecs",
        )
    )


def where_time_goes(result: Section, runs: tuple[Measured, Measured]) -> None:
    alone, through = runs
    timings = through.run.timings
    total = sum(t.total for t in timings)
    share = sum(t.portal for t in timings) / total if total else float("nan")
    result.add(Figure("part du portail dans le temps d'une connexion", share * 100, "%"))
    result.add(
        Figure(
            "rappel du portail (échange du code compris), médiane",
            statistics.median(t.exchange for t in timings) * 1000,
            "ms",
            statistics.median(t.exchange for t in alone.run.timings) * 1000,
            "échange du code par Keycloak seul",
        )
    )
    result.add(
        Figure(
            "processeur de Keycloak par connexion",
            through.keycloak_ms,
            "ms",
            alone.keycloak_ms,
            "Keycloak seul",
        )
    )
    # On saturated shared cores the rates follow the processor a sign-in costs, the load
    # client's included: what the portal may take for the goal's ratio, and the ratio its
    # processor predicts (next to the one measured, when the cores were shared).
    alone_ms = alone.keycloak_ms + alone.client_ms
    through_ms = through.keycloak_ms + through.portal_ms + through.client_ms
    result.add(
        Figure(
            "processeur du portail par connexion (3 requêtes)",
            through.portal_ms,
            "ms",
            alone_ms / GOAL_RATIO - through.keycloak_ms - through.client_ms,
            "permis pour 0,95 × Keycloak seul (cœurs partagés saturés)",
            note=f"rapport des débits prédit par le processeur : {alone_ms / through_ms:.2f}",
        )
    )
    # On saturated shared cores the rate cannot beat the servers' processor time: Keycloak
    # alone ÷ this ratio bounds the portal's rate, whatever the load client costs.
    result.add(
        Figure(
            "processeur des deux serveurs par connexion (Keycloak + portail)",
            through.keycloak_ms + through.portal_ms,
            "ms",
            alone.keycloak_ms,
            "Keycloak seul",
        )
    )
    result.add(
        Figure(
            "processeur du client de charge par connexion",
            through.client_ms,
            "ms",
            alone.client_ms,
            "Keycloak seul",
        )
    )
