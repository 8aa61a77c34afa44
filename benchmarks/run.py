"""Two earlier benchmarks, each measured side by side with its baseline in one run; the full set of
issue 14 (these two included) is `python -m benchmarks` (benchmarks/suite.py).

    .venv/bin/python -m benchmarks.run [--rounds N]

Starts a throwaway platform (see collecte_kc.sandbox), then prints ratios:
1. « Mot de passe oublié » for a known vs an unknown e-mail (baseline: unknown). The closer to 1,
   the less the response time tells about whether an account exists.
2. Admin API calls through one gateway that reuses its service-account token vs a gateway built
   per call (baseline: a new token every time), in time and in Python memory allocated.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from collecte_kc.sandbox import CHROMIUM, CHROMIUM_ARGS, Sandbox, sandbox
from portal import create_app
from portal.core.keycloak import schema
from portal.core.keycloak.gateway import KeycloakGateway


def _reset_seconds(page: Page, platform: Sandbox, email: str) -> float:
    page.goto(f"{platform.portal_url}/connexion")
    page.click("a[href*='reset-credentials']")
    page.fill("#username", email)
    started = time.perf_counter()
    page.click("#kc-form-buttons")
    page.wait_for_selector("#kc-form-login")
    return time.perf_counter() - started


def reset_timing(platform: Sandbox, rounds: int) -> tuple[float, float]:
    known = f"connu-{uuid.uuid4().hex[:8]}@exemple.fr"
    platform.admin.create_user(
        {
            "email": known,
            "firstName": "Ana",
            "lastName": "Lyse",
            "enabled": True,
            "attributes": {schema.COLLECTION: ["213500010/1"]},
        }
    )
    known_times, unknown_times = [], []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(locale="fr-FR")
        _reset_seconds(page, platform, known)  # warm-up: templates, JIT, connections
        for _ in range(rounds):  # alternate, so drift in the machine hits both alike
            known_times.append(_reset_seconds(page, platform, known))
            unknown_times.append(
                _reset_seconds(page, platform, f"inconnu-{uuid.uuid4().hex[:8]}@exemple.fr")
            )
        browser.close()
    return statistics.median(known_times), statistics.median(unknown_times)


def _measure(calls: int, action: Callable[[], object]) -> tuple[float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    for _ in range(calls):
        action()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed / calls, peak


def token_reuse(platform: Sandbox, calls: int) -> tuple[tuple[float, int], tuple[float, int]]:
    config = platform.portal_config
    shared = KeycloakGateway.from_config(config)
    shared.find_person_by_email("echauffement@exemple.fr")
    reused = _measure(calls, lambda: shared.find_person_by_email("personne@exemple.fr"))
    fresh = _measure(
        calls,
        lambda: KeycloakGateway.from_config(config).find_person_by_email("personne@exemple.fr"),
    )
    return reused, fresh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, sandbox(Path(data), create_app) as platform:
        print(f"Keycloak prêt en {platform.startup_seconds:.1f} s")
        known, unknown = reset_timing(platform, arguments.rounds)
        print(
            f"Mot de passe oublié, médiane sur {arguments.rounds} : connu {known * 1000:.0f} ms, "
            f"inconnu {unknown * 1000:.0f} ms — rapport connu/inconnu {known / unknown:.2f}"
        )
        (reused_s, reused_mem), (fresh_s, fresh_mem) = token_reuse(platform, arguments.calls)
        print(
            f"API d'administration, {arguments.calls} appels : "
            f"jeton réutilisé {reused_s * 1000:.1f} ms/appel, pic {reused_mem / 1024:.0f} Kio ; "
            f"jeton neuf à chaque appel {fresh_s * 1000:.1f} ms/appel, "
            f"pic {fresh_mem / 1024:.0f} Kio — rapport de temps {fresh_s / reused_s:.2f}, "
            f"de mémoire {fresh_mem / max(reused_mem, 1):.2f}"
        )


if __name__ == "__main__":
    main()
