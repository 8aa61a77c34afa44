"""The pure parts of the benchmarks: percentiles, ratios, one figure next to its baseline and goal,
the machine's description and the Markdown of ``benchmarks/RESULTS.md``.

No server, no network: tests/unit/test_benchmark_report.py checks them.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


def percentile(values: Sequence[float], rank: float) -> float:
    """The `rank`-th percentile (0–100) by linear interpolation between closest ranks (numpy's
    default); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * rank / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(value: float, baseline: float) -> float:
    """value / baseline; NaN when the baseline is zero or unknown."""
    if not baseline or math.isnan(baseline) or math.isnan(value):
        return math.nan
    return value / baseline


@dataclass(frozen=True)
class Figure:
    """One measured figure, next to the baseline of the same run and the goal.

    ``met``: whether the goal is reached (None when the figure has no goal)."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    goal: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if self.baseline is None else ratio(self.value, self.baseline)


def goal(value: float, target: float, higher_is_better: bool = False) -> bool:
    return value >= target if higher_is_better else value <= target


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if math.isnan(value):
        return "n/a"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}".replace(",", "\u202f")
    return f"{text} {unit}".strip()


def _met(met: bool | None) -> str:
    return "—" if met is None else "oui" if met else "**non**"


@dataclass
class Section:
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure


def table(figures: Sequence[Figure]) -> list[str]:
    lines = [
        "| mesure | valeur | référence (même exécution) | rapport | objectif | atteint |",
        "| --- | ---: | --- | ---: | --- | --- |",
    ]
    for f in figures:
        base = (
            f"{f.baseline_name} : {_number(f.baseline, f.unit)}" if f.baseline is not None else "—"
        )
        rate = "—" if f.ratio is None else _number(f.ratio)
        note = f" ({f.note})" if f.note else ""
        lines.append(
            f"| {f.name}{note} | {_number(f.value, f.unit)} | {base} | {rate} | "
            f"{f.goal or '—'} | {_met(f.met)} |"
        )
    return lines


@dataclass(frozen=True)
class Machine:
    cores: int
    ram_mib: int
    load_average: tuple[float, float, float]
    python: str
    keycloak: str
    java: str

    def lines(self) -> list[str]:
        one, five, fifteen = self.load_average
        return [
            f"- cœurs : {self.cores} ; mémoire : {self.ram_mib} Mio",
            f"- charge moyenne au départ (1, 5, 15 min) : {one:.2f}, {five:.2f}, {fifteen:.2f}",
            f"- Python {self.python} ; Keycloak {self.keycloak} ; Java {self.java}",
        ]


def machine(keycloak: str, java: str, meminfo: Path = Path("/proc/meminfo")) -> Machine:
    total_kib = 0
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                total_kib = int(line.split()[1])
    load = os.getloadavg()
    return Machine(
        cores=os.cpu_count() or 0,
        ram_mib=total_kib // 1024,
        load_average=(load[0], load[1], load[2]),
        python=platform.python_version(),
        keycloak=keycloak,
        java=java,
    )


def render(
    started: datetime,
    seconds: float,
    host: Machine,
    sections: Sequence[Section],
    command: str,
    provisional: bool,
) -> str:
    """The whole RESULTS.md."""
    lines = [
        "# Mesures de performance (issue 14)",
        "",
        f"Exécution du {started:%Y-%m-%d %H:%M} UTC, {seconds / 60:.1f} min, par `{command}`.",
        "",
        *host.lines(),
        "",
    ]
    if provisional:
        lines += [
            "**Chiffres provisoires** : la machine est partagée et chargée (charge moyenne "
            "ci-dessus) ; le client de charge, le portail et Keycloak se partagent ses cœurs. "
            "Les rapports (même exécution, même machine) comptent plus que les valeurs absolues.",
            "",
        ]
    for section in sections:
        lines += [f"## {section.title}", ""]
        if section.figures:
            lines += [*table(section.figures), ""]
        for note in section.notes:
            lines += [note, ""]
    return "\n".join(lines).rstrip() + "\n"


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` took (perf_counter)."""
    import time

    started = time.perf_counter()
    action()
    return time.perf_counter() - started
