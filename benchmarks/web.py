"""Figures (a), (b) and (e): the member and support pages under load next to the static home page,
complete sign-ins through the portal next to Keycloak alone, and the portal workers' memory.

The portal runs under gunicorn as in the dev run (2 synchronous workers), its Keycloak URL
pointing at the counting proxy (benchmarks/load.py): the Admin API calls and token fetches per
page are those Keycloak received.
"""

from __future__ import annotations

import http.client
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import population
from benchmarks.load import CountingProxy, LoadResult, children, gunicorn, load, rss_mib
from benchmarks.report import Figure, Section, goal, ratio
from benchmarks.signin_section import section as signin_section_of
from benchmarks.signins import portal_sign_in
from collecte_kc import production
from collecte_kc.sandbox import Sandbox, free_port
from portal.core.keycloak import schema

CONNECTIONS = 16
SIGNIN_USERS = 8
COUNTED_REQUESTS = 10
#: Requests before counting: enough for each gunicorn worker (they take connections in turn,
#: not in order) to have fetched its service-account token and read the page once.
WARM_UP_REQUESTS = 8
SESSION_COOKIE = "collecte-session"


@dataclass(frozen=True)
class Settings:
    page_seconds: float
    signin_seconds: float
    follow_up_people: int  # the groupement of the page mix


def allow_portal(platform: Sandbox, portal_url: str) -> None:
    """The gunicorn portal listens on its own port: Keycloak's portal client accepts its
    callback too (benchmark set-up)."""
    admin = platform.admin
    client_uuid = str(admin.get_client_id(schema.PORTAL_CLIENT))
    client = admin.get_client(client_uuid)
    client["redirectUris"] = [*client.get("redirectUris", []), f"{portal_url}/auth/callback"]
    admin.update_client(client_uuid, client)


def _make_principal(platform: Sandbox, code: str, siren: str, email: str) -> None:
    admin = platform.admin
    person_id = admin.get_users({"email": email, "exact": True})[0]["id"]
    group = admin.get_group_by_path(f"/{code}/{siren}")
    attributes = {**group.get("attributes", {}), schema.principal_attribute("1"): [person_id]}
    admin.update_group(group["id"], {**group, "attributes": attributes})


def _count(port: int, path: str, cookie: str, host: str, proxy: CountingProxy) -> dict[str, float]:
    """Admin API calls and token fetches per request, over `COUNTED_REQUESTS` requests made one
    after the other once warm (`WARM_UP_REQUESTS` requests first)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Host": host, **({"Cookie": cookie} if cookie else {})}

    def get() -> None:
        connection.request("GET", path, headers=headers)
        reply = connection.getresponse()
        reply.read()
        if reply.status != 200:
            raise RuntimeError(f"GET {path} : {reply.status}")

    # Concurrent first, so that every worker serves some (one alone may take them all).
    load(port, path, cookie, host, CONNECTIONS, 0.5)
    for _ in range(WARM_UP_REQUESTS):
        get()
    before = proxy.snapshot()
    for _ in range(COUNTED_REQUESTS):
        get()
    after = proxy.snapshot()
    connection.close()
    return {key: (after[key] - before[key]) / COUNTED_REQUESTS for key in ("admin", "token")}


def _cookie(browser: Any) -> str:
    return f"{SESSION_COOKIE}={browser.cookies.get(SESSION_COOKIE)}"


def pages_and_signins(platform: Sandbox, settings: Settings) -> tuple[Section, Section, Section]:
    admin = platform.admin
    pages = population.groupement(admin, settings.follow_up_people, 1, "PAGES")
    member, siren = pages.emails[0], pages.sirens[0]
    _make_principal(platform, pages.code, siren, member)
    support = population.make_support(admin)
    signers = population.groupement(admin, SIGNIN_USERS, SIGNIN_USERS, "CNX")
    port = free_port()
    host = f"localhost:{port}"
    portal_url = f"http://{host}"
    allow_portal(platform, portal_url)
    work = Path(tempfile.mkdtemp(prefix="bench-portail-"))
    proxy = CountingProxy(platform.keycloak_url)
    config = {
        **platform.portal_config,
        "KEYCLOAK_URL": proxy.url,
        "PORTAL_URL": portal_url,
        "SESSION_FILE_DIR": str(work / "sessions"),
    }
    with proxy.running(), gunicorn(config, port, work / "gunicorn.log") as master:
        password = population.PASSWORD
        _, member_browser = portal_sign_in(portal_url, member, password)
        _, support_browser = portal_sign_in(portal_url, support, password)
        member_cookie, support_cookie = _cookie(member_browser), _cookie(support_browser)
        plan = [
            ("page d'accueil statique (anonyme)", "/", ""),
            ("accueil de « Mon espace »", "/espace/", member_cookie),
            ("page d'un SIREN/lot", f"/espace/{siren}/1/", member_cookie),
            ("formulaire d'ajout de contact", f"/espace/{siren}/1/contacts/nouveau", member_cookie),
            ("file du support", "/support/", support_cookie),
            ("diagnostic", f"/support/diagnostic?email={member}", support_cookie),
            (
                f"suivi d'un groupement de {settings.follow_up_people}",
                f"/coordination/{pages.code}/",
                support_cookie,
            ),
        ]
        results: list[tuple[str, dict[str, float], LoadResult]] = []
        for name, path, cookie in plan:
            counted = _count(port, path, cookie, host, proxy)
            measured = load(port, path, cookie, host, CONNECTIONS, settings.page_seconds)
            results.append((name, counted, measured))
            print(
                f"  {name} : {measured.per_second:.1f} req/s, p50 {measured.p(50):.0f} ms, "
                f"p95 {measured.p(95):.0f} ms, {counted['admin']:.1f} appels, "
                f"{measured.errors} erreurs",
                flush=True,
            )
        workers = children(master)
        worker_rss = max(rss_mib(pid) for pid in workers) if workers else float("nan")
    # Sign-ins on a portal talking to Keycloak directly, as Keycloak alone is measured: through
    # the counting proxy, the login pages and the code exchange would each cross one more
    # Python process.
    direct = {**config, "KEYCLOAK_URL": platform.keycloak_url}
    with gunicorn(direct, port, work / "gunicorn-connexions.log") as master:
        java, _ = keycloak_java(platform)
        signin_section = signin_section_of(
            platform, portal_url, list(signers.emails), settings.signin_seconds, java, master
        )
    return _pages_section(results, settings), signin_section, _memory_section(worker_rss, platform)


def _pages_section(
    results: list[tuple[str, dict[str, float], LoadResult]], settings: Settings
) -> Section:
    section = Section(
        f"(a) Pages du membre et du support, {CONNECTIONS} connexions, "
        f"{settings.page_seconds:.0f} s par page"
    )
    (home_name, _, home), rest = results[0], results[1:]
    section.add(Figure(f"{home_name} : requêtes/s", home.per_second, "req/s"))
    section.add(Figure(f"{home_name} : p50", home.p(50), "ms"))
    section.add(Figure(f"{home_name} : p95", home.p(95), "ms"))
    for name, counted, measured in rest:
        rate = ratio(measured.per_second, home.per_second)
        section.add(
            Figure(
                f"{name} : requêtes/s",
                measured.per_second,
                "req/s",
                home.per_second,
                "accueil statique",
                "≥ 1/4 de l'accueil",
                rate >= 0.25,
                note=f"{measured.errors} erreurs" if measured.errors else "",
            )
        )
        section.add(
            Figure(
                f"{name} : p95",
                measured.p(95),
                "ms",
                home.p(95),
                "accueil statique",
                "≤ 30 ms",
                goal(measured.p(95), 30),
                note=f"p50 {measured.p(50):.0f} ms",
            )
        )
        section.add(
            Figure(
                f"{name} : appels à l'API d'administration par page",
                counted["admin"],
                "",
                goal="",
            )
        )
        section.add(
            Figure(
                f"{name} : jetons demandés par requête (à chaud)",
                counted["token"],
                "",
                goal="0",
                met=counted["token"] == 0,
            )
        )
    mix = statistics.mean(counted["admin"] for _, counted, _ in rest)
    section.add(
        Figure(
            "appels à l'API d'administration par page, moyenne du mélange",
            mix,
            "",
            goal="≤ 1",
            met=mix <= 1,
        )
    )
    section.notes.append(
        "Appels comptés par un mandataire inverse entre le portail et Keycloak (ce que Keycloak "
        f"a reçu), sur {COUNTED_REQUESTS} requêtes une à une après une demi-seconde de charge et "
        f"{WARM_UP_REQUESTS} requêtes d'échauffement. Le "
        "portail tourne sous gunicorn comme `make run` (2 workers synchrones, "
        "portal/gunicorn_conf.py) ; le client de "
        "charge est un programme Python à fils (une connexion par fil) sur la même machine, "
        "qui prend lui-même du processeur : le débit de la page statique en est minoré. Chaque "
        "appel d'administration traverse aussi le mandataire (≈ 1 ms de plus)."
    )
    return section


def keycloak_java(platform: Sandbox) -> tuple[int | None, list[str]]:
    """The Java process of the sandbox's Keycloak and its heap flags."""
    process = platform.keycloak.process
    if process is None:
        return None, []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[2]) == process.pid and command and command[0].endswith(b"java"):
            flags = [
                part.decode()
                for part in command
                if part.startswith((b"-Xm", b"-XX:MaxRAM", b"-XX:InitialRAM", b"-XX:MinRAM"))
            ]
            return int(stat.parent.name), flags
    return None, []


def _memory_section(worker_rss: float, platform: Sandbox) -> Section:
    section = Section("(e) Mémoire")
    section.add(
        Figure(
            "RSS d'un worker du portail après les pages (le plus gros des deux)",
            worker_rss,
            "Mio",
            goal="≤ 80 Mio",
            met=goal(worker_rss, 80),
        )
    )
    pid, flags = keycloak_java(platform)
    if pid is not None:
        section.add(Figure("RSS de Keycloak (H2, après les pages)", rss_mib(pid), "Mio"))
    section.notes.append(
        f"Tas de Keycloak en dév. (`make run`, tests, mesures) : `{' '.join(flags) or '?'}` "
        "(`collecte_kc.server.DEV_HEAP` : avec le défaut de `kc.sh` hors conteneur, "
        "`-Xms64m -Xmx512m`, le ramasse-miettes prenait une large part du processeur de "
        "Keycloak pendant un import). En production (image de "
        "`keycloak/providers/Dockerfile`, `KC_RUN_IN_CONTAINER=true`) : "
        "`-XX:MaxRAMPercentage=70 -XX:MinRAMPercentage=70 -XX:InitialRAMPercentage=50`, soit "
        "50 % de la mémoire du conteneur au départ et 70 % au plus ; `docker-compose.yml` "
        "limite chaque conteneur Keycloak (sans limite, chaque réplique pourrait prendre 70 % "
        f"de la machine), d'où `{production.CONTAINER_HEAP}`, le tas que la topologie de "
        "production (g), sans conteneur, donne à ses nœuds "
        "(`collecte_kc.production.CONTAINER_HEAP`, tenu à la limite du fichier par un test)."
    )
    return section
