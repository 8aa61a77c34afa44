"""Figures (c), (d) and (f): the activation follow-up of a large groupement, the bulk import with
its profile, and Keycloak's start on a fresh and on a warm data folder.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from benchmarks import bulk_import, population
from benchmarks.load import CountingProxy
from benchmarks.report import Figure, Section, goal
from collecte_kc.sandbox import Sandbox, free_port
from collecte_kc.server import KeycloakServer, KeycloakStartError
from portal.core.authority import authorised_scopes
from portal.core.domain import Function, Person
from portal.core.keycloak import schema
from portal.core.keycloak.bulk_writer import IMPORT_CHUNK, IMPORT_WRITERS, BulkWriter
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.follow_up import follow_up

# --- (c) follow-up ---------------------------------------------------------------------------


def per_person_follow_up(gateway: KeycloakGateway, code: str) -> int:
    """The follow-up's reads as the portal made them before issue 14 (the baseline): the
    adherents, each adherent's members, then per collection contact their credentials and, when
    activated, their latest LOGIN event, 8 at a time. Returns the number of people read."""
    adherents = gateway.groupement_adherents(code) or []
    people: dict[str, Person] = {}
    for adherent in adherents:
        for person in gateway.adherent_members(adherent):
            if authorised_scopes(person, Function.COLLECTE, {adherent.siren: adherent}):
                people[person.id] = person

    def account(person: Person) -> None:
        if gateway.activated_at(person.id):
            gateway.last_login(person.id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(account, people.values()))
    return len(people)


def follow_up_section(platform: Sandbox, people: int) -> Section:
    made = population.groupement(platform.admin, people, people // 2, "SUIVI")
    proxy = CountingProxy(platform.keycloak_url)
    with proxy.running():
        gateway = KeycloakGateway.from_config({**platform.portal_config, "KEYCLOAK_URL": proxy.url})
        gateway.current_terms_version()  # the service account's token, out of the measure
        before = proxy.snapshot()
        started = time.perf_counter()
        read = per_person_follow_up(gateway, made.code)
        baseline = time.perf_counter() - started
        middle = proxy.snapshot()
        started = time.perf_counter()
        found = follow_up(gateway, made.code)
        seconds = time.perf_counter() - started
        after = proxy.snapshot()
    assert found is not None and read == people, (read, people)
    section = Section(f"(c) Suivi des activations d'un groupement de {people} interlocuteurs")
    section.add(
        Figure(
            "suivi (portal.core.services.follow_up)",
            seconds,
            "s",
            baseline,
            "lectures une par personne, 8 à la fois",
            "< 2 s",
            goal(seconds, 2),
        )
    )
    section.add(
        Figure(
            "appels à l'API d'administration du suivi",
            after["admin"] - middle["admin"],
            "",
            middle["admin"] - before["admin"],
            "lectures une par personne",
        )
    )
    section.notes.append(
        f"Moitié des personnes activées (mot de passe importé déjà haché), aucune connexion "
        f"enregistrée ; {len(found.lines)} lignes (deux lots par personne). Mesuré avec le compte "
        "de service du portail, au travers du mandataire qui compte les appels."
    )
    return section


# --- (d) bulk import -------------------------------------------------------------------------


@contextmanager
def http_time() -> Iterator[defaultdict[str, float]]:
    """Seconds during which at least one HTTP call of each method was under way while the block
    runs (the import makes some calls several at a time: each second is counted once), and under
    ``"*"`` those during which any call was."""
    spent: defaultdict[str, float] = defaultdict(float)
    lock = threading.Lock()
    under_way: defaultdict[str, int] = defaultdict(int)
    since: dict[str, float] = {}
    original = requests.Session.request

    def track(keys: tuple[str, ...], step: int) -> None:
        now = time.perf_counter()
        with lock:
            for key in keys:
                under_way[key] += step
                if step > 0 and under_way[key] == 1:
                    since[key] = now
                elif step < 0 and under_way[key] == 0:
                    spent[key] += now - since.pop(key)

    def request(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        # The extension's reads (who has these e-mails, who holds these SIRENs) are POSTs that
        # write nothing: counted with the reads.
        verb = "GET" if "/collecte-pages/" in url else method.upper()
        keys = (verb, "*")
        track(keys, 1)
        try:
            return original(self, method, url, *args, **kwargs)
        finally:
            track(keys, -1)

    requests.Session.request = request  # type: ignore[method-assign,assignment]
    try:
        yield spent
    finally:
        requests.Session.request = original  # type: ignore[method-assign]


def _ours(platform: Sandbox, size: int, tag: str) -> float:
    gateway = KeycloakGateway(platform.admin)
    text, _, _ = bulk_import.generate(size, tag)
    code = bulk_import._groupement(platform, None)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    outcome = bulk_import.ours(gateway, code, text, platform.portal_url, phases)
    seconds = time.perf_counter() - started
    assert outcome.created == size and not outcome.failures, outcome.failures[:3]
    return seconds


#: The import's steps timed apart in the profiled run: (class, method, how RESULTS.md names it).
STEPS = (
    (BulkWriter, "import_state", "lecture de l'existant"),
    (BulkWriter, "_create_adherents", "création des groupes d'adhérents (un appel chacun)"),
    (
        BulkWriter,
        "_import_people",
        f"import partiel des personnes ({IMPORT_CHUNK} par appel, {IMPORT_WRITERS} à la fois)",
    ),
    (BulkWriter, "_claim_principals", "principaux (une écriture conditionnelle par adhérent)"),
)
PARTIAL_IMPORT = STEPS[2][2]


@contextmanager
def step_time() -> Iterator[dict[str, float]]:
    """Seconds spent in each of :data:`STEPS` while the block runs (the import runs them one
    after the other, in this thread; each makes its calls ``IMPORT_WRITERS`` at a time)."""
    spent = dict.fromkeys((name for _, _, name in STEPS), 0.0)
    originals = [(owner, method, getattr(owner, method)) for owner, method, _ in STEPS]

    def timed(original: Any, name: str) -> Any:
        def step(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return step

    for (owner, method, original), (_, _, name) in zip(originals, STEPS, strict=True):
        setattr(owner, method, timed(original, name))
    try:
        yield spent
    finally:
        for owner, method, original in originals:
            setattr(owner, method, original)


def _raw_partial(platform: Sandbox, size: int, tag: str) -> float:
    """Keycloak alone: the same kind of people in partial-import calls of the same size as
    ours, as many at a time, their adherent groups made beforehand (not timed), nothing read,
    no principals."""
    _, users, adherents = bulk_import.generate(size, tag)
    code = bulk_import._groupement(platform, adherents)
    sirens = [siren for siren, _ in adherents for _ in range(bulk_import.PER_ADHERENT)]
    for user, siren in zip(users, sirens, strict=False):
        user["groups"] = [f"/{code}/{siren}"]
    connection = platform.admin.connection

    def call(start: int) -> None:
        body = {"ifResourceExists": "SKIP", "users": users[start : start + IMPORT_CHUNK]}
        response = connection.raw_post(
            f"admin/realms/{schema.REALM}/partialImport", data=json.dumps(body)
        )
        response.raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(IMPORT_WRITERS) as calls:
        list(calls.map(call, range(0, size, IMPORT_CHUNK)))
    return time.perf_counter() - started


def _one_by_one(platform: Sandbox, size: int, tag: str) -> float:
    _, users, adherents = bulk_import.generate(size, tag)
    code = bulk_import._groupement(platform, adherents)
    sirens = [siren for siren, _ in adherents for _ in range(bulk_import.PER_ADHERENT)]
    for user, siren in zip(users, sirens, strict=False):
        user["groups"] = [f"/{code}/{siren}"]
    started = time.perf_counter()
    for user in users:
        platform.admin.create_user(user)
    return time.perf_counter() - started


def bulk_section(platform: Sandbox, size: int, profiled: int, one_by_one: int) -> Section:
    """The support's import command on `size` rows, twice (the first import since Keycloak
    started, then another file at once), vs `one_by_one` create_user calls scaled to `size` (the
    creations cost the same per person: measured on fewer to keep the run bounded)."""
    runs = [
        bulk_import.command(platform, size, f"o{secrets.token_hex(3)}"),
        bulk_import.command(platform, size, f"o{secrets.token_hex(3)}"),
    ]
    print(f"  import de {size} lignes : {runs[0]:.1f} s, puis {runs[1]:.1f} s", flush=True)
    alone = _one_by_one(platform, one_by_one, f"u{secrets.token_hex(3)}") * size / one_by_one
    print(f"  create_user, ramené à {size} : {alone:.1f} s", flush=True)
    section = Section(f"(d) Import en masse de {size} lignes (sans invitations)")
    for name, seconds in zip(
        ("premier import depuis le démarrage de Keycloak", "import suivant, Keycloak chaud"),
        runs,
        strict=True,
    ):
        section.add(
            Figure(
                f"commande d'import ({name})",
                seconds,
                "s",
                alone,
                "un create_user par personne"
                + (f" (mesuré sur {one_by_one}, ramené à {size})" if one_by_one < size else ""),
                "< 25 s" if size >= 10_000 else "",
                goal(seconds, 25) if size >= 10_000 else None,
            )
        )
    profile = cProfile.Profile()
    with http_time() as spent, step_time() as steps:
        started = time.perf_counter()
        profile.enable()
        _ours(platform, profiled, f"p{secrets.token_hex(3)}")
        profile.disable()
        wall = time.perf_counter() - started
    writes = spent["POST"] + spent["PUT"] + spent["DELETE"]
    reads = spent["GET"]
    python = max(wall - spent["*"], 0.0)
    for name, seconds in (
        ("écritures de Keycloak (POST/PUT)", writes),
        ("nos lectures (GET, lectures de l'extension)", reads),
        ("notre Python (le reste)", python),
    ):
        section.add(
            Figure(
                f"profil, {profiled} lignes : {name}",
                seconds,
                "s",
                wall,
                "durée totale profilée",
            )
        )
    for name, seconds in steps.items():
        section.add(
            Figure(
                f"profil, {profiled} lignes : {name}", seconds, "s", wall, "durée totale profilée"
            )
        )
    raw = _raw_partial(platform, profiled, f"r{secrets.token_hex(3)}")
    section.add(
        Figure(
            f"Keycloak seul : import partiel brut de {profiled} personnes "
            f"({IMPORT_CHUNK} par appel, {IMPORT_WRITERS} à la fois)",
            raw,
            "s",
            steps[PARTIAL_IMPORT],
            "notre import partiel des mêmes personnes",
        )
    )
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(12)
    top = "\n".join(line for line in text.getvalue().splitlines()[6:] if line.strip())
    section.notes.append(
        f"Profil (cProfile, {profiled} lignes, temps propre) ; les appels HTTP sont chronométrés "
        f"à part, par méthode (appels faits {IMPORT_WRITERS} à la fois : chaque seconde où l'un "
        "au moins est en cours compte une fois), le Python est le temps où aucun n'est en cours. "
        "cProfile ne suit que le fil principal : son attente des écritures faites à côté y "
        f"paraît comme `acquire`. Les douze fonctions les plus coûteuses :\n\n```\n{top}\n```"
    )
    return section


# --- (f) Keycloak's start --------------------------------------------------------------------


def warm_start(data_dir: Path, attempts: int = 3) -> float:
    """Seconds to ready for a Keycloak started again on a data folder already used. A port found
    free may be taken before Keycloak binds it (after the loads, many of the loopback's ephemeral
    ports are in use): Keycloak is then started again on other ports."""
    for attempt in range(1, attempts + 1):
        server = KeycloakServer(
            data_dir=data_dir,
            http_port=free_port(),
            management_port=free_port(),
            bootstrap_client_secret=secrets.token_urlsafe(24),
        )
        server.start()
        try:
            return float(server.wait_ready())
        except KeycloakStartError:
            log = server.log_file.read_text(encoding="utf-8", errors="replace")
            if attempt == attempts or "Address already in use" not in log[-5000:]:
                raise
        finally:
            server.stop()
    raise AssertionError("unreachable")


def start_section(fresh: float, warm: float | None) -> Section:
    section = Section("(f) Démarrage de Keycloak (`start-dev`, H2)")
    section.add(
        Figure(
            "dossier de données neuf (premier démarrage)",
            fresh,
            "s",
            goal="< 45 s",
            met=goal(fresh, 45),
        )
    )
    if warm is not None:
        section.add(
            Figure(
                "dossier de données déjà utilisé",
                warm,
                "s",
                fresh,
                "dossier neuf",
            )
        )
    section.notes.append(
        "Jusqu'à ce que /health/ready réponde 200, la distribution déjà téléchargée (.cache/) ; "
        "« neuf » importe le realm dans un H2 vide, et comprend la reconstruction de Keycloak "
        "quand le jar de nos extensions a changé depuis le démarrage précédent."
    )
    return section
