"""Figure (g): the production topology (collecte_kc.production: PostgreSQL, two Keycloak nodes,
nginx and TLS, two portal hosts, Redis) under the mixed load of benchmarks/mixed_load.py for 5
minutes, next to the dev run (Keycloak on H2, one portal under gunicorn) under the same load.

Counted: the p95 of each kind of request, the 5xx answers (goal 0: no fault is injected here),
and the writes the portal acknowledged that Keycloak does not hold (goal 0).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks import population, web
from benchmarks.load import gunicorn
from benchmarks.mixed_load import (
    PAGES_PER_SESSION,
    MixedRun,
    lost_writes,
    members_of,
    mixed_load,
)
from benchmarks.report import Figure, Section
from collecte_kc.production import topology
from collecte_kc.sandbox import Sandbox, free_port

CLIENTS = 6


def dev_run(platform: Sandbox, seconds: float) -> MixedRun:
    """The load on the dev run's portal (gunicorn, 2 workers) and Keycloak (start-dev, H2)."""
    made = population.groupement(platform.admin, CLIENTS, CLIENTS, "CHARGE-DEV")
    port = free_port()
    portal_url = f"http://localhost:{port}"
    web.allow_portal(platform, portal_url)
    work = Path(tempfile.mkdtemp(prefix="bench-charge-"))
    config = {
        **platform.portal_config,
        "PORTAL_URL": portal_url,
        "SESSION_FILE_DIR": str(work / "sessions"),
    }
    with gunicorn(config, port, work / "gunicorn.log"):
        return mixed_load(portal_url, members_of(made), seconds)


@contextmanager
def trusting(certificate: Path) -> Iterator[None]:
    """This process's clients trust the topology's self-signed certificate meanwhile."""
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(certificate)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before


def production_run(seconds: float) -> tuple[MixedRun, list[str], float]:
    """The load on the production topology; (the run, acknowledged writes lost, seconds the
    topology took to start)."""
    work = Path(tempfile.mkdtemp(prefix="bench-production-"))
    with topology(work) as prod, trusting(prod.certificate):
        print(f"  topologie prête en {prod.started_seconds:.0f} s", flush=True)
        made = population.groupement(prod.admin, CLIENTS, CLIENTS, "CHARGE")
        run = mixed_load(prod.public_url, members_of(made), seconds)
        return run, lost_writes(prod.admin, run.acknowledged), prod.started_seconds


def section(dev: MixedRun, prod: MixedRun, lost: list[str], started: float) -> Section:
    minutes = prod.seconds / 60
    title = f"(g) Topologie de production sous charge mixte, {minutes:.0f} min"
    result = Section(f"{title}, {CLIENTS} membres à la fois")
    for kind in prod.times:
        result.add(
            Figure(
                f"{kind}, p95 ({prod.count(kind)} requêtes)",
                prod.p95_ms(kind),
                "ms",
                baseline=dev.p95_ms(kind),
                baseline_name="lancement de dév.",
            )
        )
    errors = len(prod.server_errors)
    result.add(Figure("réponses 5xx", errors, "", goal="0", met=errors == 0))
    result.add(
        Figure(
            "écritures confirmées absentes de Keycloak",
            len(lost),
            "",
            goal="0",
            met=not lost,
            note=f"sur {len(prod.acknowledged)} confirmées",
        )
    )
    result.notes += [
        f"Chaque membre : connexion complète, {PAGES_PER_SESSION} lectures de sa page SIREN/lot, "
        "formulaire et ajout d'un interlocuteur technique, puis de nouveau ; au travers de nginx "
        "et TLS, "
        f"deux nœuds Keycloak sur PostgreSQL, deux hôtes du portail et Redis (prête en "
        f"{started:.0f} s). Référence : la même charge {dev.seconds:.0f} s sur le lancement de "
        "dév. (Keycloak `start-dev` sur H2, un portail gunicorn à 2 workers), dans la même "
        "exécution.",
        f"Autres échecs : {len(prod.failures)} en production, {len(dev.failures)} en dév."
        + (f" (premier : {prod.failures[0]})" if prod.failures else ""),
    ]
    return result
