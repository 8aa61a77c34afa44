"""A bounded mixed load, as members behave during a campaign: each client is one member (brute
force detection refuses concurrent sign-ins of one person) who signs in, reads their SIREN/lot
page a few times, adds a technical contact, then starts again — until the time is up.

Counted: each request's time by kind, every 5xx answer, every other failure, and the writes the
portal acknowledged (its redirect after « Contact enregistré »), to be checked afterwards
against what Keycloak holds (:func:`lost_writes`). Loopback only; it stops by itself.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from benchmarks import population
from benchmarks.report import percentile
from benchmarks.signins import SignInFailed, portal_sign_in

PAGES_PER_SESSION = 4
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class MixedRun:
    seconds: float
    times: dict[str, list[float]] = field(default_factory=dict)  # kind → seconds
    server_errors: list[str] = field(default_factory=list)  # "kind: status"
    failures: list[str] = field(default_factory=list)  # anything else that went wrong
    acknowledged: list[str] = field(default_factory=list)  # contacts' e-mails confirmed written
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def p95_ms(self, kind: str) -> float:
        return percentile(self.times.get(kind, []), 95) * 1000

    def count(self, kind: str) -> int:
        return len(self.times.get(kind, []))

    def timed(
        self, kind: str, send: Callable[..., requests.Response], url: str, **options: Any
    ) -> requests.Response:
        """``send(url, **options)`` (a browser's get or post), timed and checked."""
        started = time.perf_counter()
        response = send(url, timeout=30, **options)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.times.setdefault(kind, []).append(elapsed)
            if response.status_code >= 500:
                self.server_errors.append(f"{kind} : {response.status_code}")
        return response


def _member_loop(run: MixedRun, public_url: str, email: str, siren: str, deadline: float) -> None:
    page = f"{public_url}/espace/{siren}/1/"
    while time.monotonic() < deadline:
        try:
            started = time.perf_counter()
            _, browser = portal_sign_in(public_url, email, population.PASSWORD)
            with run.lock:
                run.times.setdefault("connexion complète", []).append(time.perf_counter() - started)
            for _ in range(PAGES_PER_SESSION):
                reply = run.timed("page d'un SIREN/lot", browser.get, page)
                if reply.status_code != 200 and reply.status_code < 500:
                    raise SignInFailed(f"page : {reply.status_code}")
            form = run.timed("formulaire d'ajout", browser.get, f"{page}contacts/nouveau")
            token = CSRF.search(form.text)
            if token is None:
                raise SignInFailed(f"formulaire : {form.status_code}")
            contact = f"technique-{uuid.uuid4().hex[:12]}@charge-exemple.fr"
            fields = {
                "csrf_token": token.group(1),
                "nom": "Charge",
                "prenom": "Technique",
                "email": contact,
                "telephone_fixe": "02 99 00 00 01",
                "telephone_mobile": "",
                "fonctions": "technique",
            }
            written = run.timed(
                "ajout d'un contact (écriture)",
                browser.post,
                f"{page}contacts/nouveau",
                data=fields,
                allow_redirects=False,
                # as a browser sends it: over https, Flask-WTF checks the Referer's origin
                headers={"Referer": f"{page}contacts/nouveau"},
            )
            if written.status_code in (302, 303):
                with run.lock:
                    run.acknowledged.append(contact)
            elif written.status_code < 500:
                raise SignInFailed(f"écriture : {written.status_code}")
        except (SignInFailed, requests.RequestException) as error:
            with run.lock:
                run.failures.append(f"{email} : {error}")


def mixed_load(public_url: str, members: list[tuple[str, str]], seconds: float) -> MixedRun:
    """Run the load for ``seconds`` with one client per member (e-mail, SIREN); lot 1."""
    run = MixedRun(seconds)
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_member_loop, args=(run, public_url, email, siren, deadline), daemon=True
        )
        for email, siren in members
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    return run


def members_of(made: population.Groupement) -> list[tuple[str, str]]:
    """(e-mail, SIREN) of a population's activated members."""
    per = population.PER_ADHERENT
    return [(email, made.sirens[index // per]) for index, email in enumerate(made.emails)]


def lost_writes(admin: Any, acknowledged: list[str]) -> list[str]:
    """The acknowledged contacts Keycloak does not hold."""
    return [e for e in acknowledged if not admin.get_users({"email": e, "exact": True})]
