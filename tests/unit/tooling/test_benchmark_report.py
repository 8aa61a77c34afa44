"""The pure parts of the benchmark harness (benchmarks/report.py, benchmarks/load.py): the benchmark
itself starts servers and is run by `python -m benchmarks`, never by pytest."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from benchmarks.load import category
from benchmarks.report import Figure, Machine, Section, goal, percentile, ratio, render
from benchmarks.signin_section import Measured, where_time_goes
from benchmarks.signins import SignInRun, Timings


def test_percentiles_interpolate_between_closest_ranks() -> None:
    values = [0.4, 0.1, 0.3, 0.2]
    assert percentile(values, 0) == pytest.approx(0.1)
    assert percentile(values, 50) == pytest.approx(0.25)
    assert percentile(values, 100) == pytest.approx(0.4)
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_ratio_to_a_missing_baseline_is_not_a_number() -> None:
    assert ratio(30, 120) == pytest.approx(0.25)
    assert math.isnan(ratio(1, 0))
    assert math.isnan(ratio(1, math.nan))


def test_goals_lower_or_higher_is_better() -> None:
    assert goal(29.9, 30) and not goal(30.1, 30)
    assert goal(0.96, 0.95, higher_is_better=True)


def test_requests_to_keycloak_are_told_apart() -> None:
    assert category("/admin/realms/collecte/users?email=x") == "admin"
    assert category("/admin/realms/collecte/collecte-revisions/groups/1") == "admin"
    assert category("/realms/collecte/protocol/openid-connect/token") == "token"
    assert category("/realms/collecte/protocol/openid-connect/certs") == "other"


def test_the_report_shows_each_figure_next_to_its_baseline_and_goal() -> None:
    section = Section("(a) Pages")
    section.add(Figure("accueil : requêtes/s", 2000.0, "req/s"))
    section.add(Figure("espace : requêtes/s", 500.0, "req/s", 2000.0, "accueil", "≥ 1/4", met=True))
    section.add(Figure("espace : p95", 45.0, "ms", goal="≤ 30 ms", met=False))
    section.notes.append("Une note.")
    host = Machine(2, 24105, (2.27, 2.14, 5.33), "3.11.2", "26.7.3", "openjdk 21")
    text = render(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), 600, host, [section], "cmd", True)
    assert "2026-12-01 06:00 UTC" in text and "10.0 min" in text
    assert "charge moyenne au départ (1, 5, 15 min) : 2.27, 2.14, 5.33" in text
    assert "Chiffres provisoires" in text
    row = "| espace : requêtes/s | 500 req/s | accueil : 2\u202f000 req/s | 0.25 | ≥ 1/4 | oui |"
    assert row in text
    assert "| espace : p95 | 45.0 ms | — | — | ≤ 30 ms | **non** |" in text
    assert "Une note." in text


def test_the_sign_ins_say_what_processor_the_portal_may_take() -> None:
    def measured(completed: int, keycloak: float, portal: float, client: float) -> Measured:
        return Measured(
            SignInRun(completed, 0, 10.0, (Timings(0.01, 0.09, 0.01),)), keycloak, portal, client
        )

    alone = Measured.combined(
        [measured(100, 58.0, 0.0, 1.6), measured(300, 60.0 + 2 / 3, 0.0, 1.6)]
    )
    assert (alone.run.completed, alone.run.seconds, len(alone.run.timings)) == (400, 20.0, 2)
    assert alone.keycloak_ms == pytest.approx(60.0)  # weighted by the sign-ins of each run
    section = Section("connexions")
    where_time_goes(section, (alone, measured(280, 60.0, 6.0, 2.2)))

    (portal,) = [f for f in section.figures if f.name.startswith("processeur du portail")]
    assert portal.value == 6.0
    # (60 + 1.6) / 0.95 − 60 − 2.2: what the portal may use for 0.95 on saturated shared cores
    assert portal.baseline == pytest.approx(2.642, abs=0.001)
    assert "prédit par le processeur : 0.90" in portal.note  # 61.6 / 68.2
