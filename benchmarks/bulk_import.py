"""Bulk import speed: our path vs one creation per person vs Keycloak's raw partial import.

    .venv/bin/python benchmarks/bulk_import.py [--tailles 1000 10000]

Starts a throwaway platform (collecte_kc.sandbox), then for each size imports the same kind of
generated rows (distinct people, valid SIRENs via the Luhn key, ten people per adherent, lots 1
and 2, one person in three a collection contact) three ways, each on a fresh groupement:

1. our path (`portal.core.services.bulk` + `KeycloakGateway.import_state`/`apply_import` with the
command
   line's bootstrap client): reading and checking the file, reading what exists, creating the
   adherent groups, partial import by chunks of `IMPORT_CHUNK` (`IMPORT_WRITERS` calls at a
   time), principals — **without invitations** (measured apart, on a sample of 50: one
   e-mail each through Keycloak's SMTP to the sink, one after the other, then as the import
   sends them, several at once);
2. one `create_user` per person (adherent groups made beforehand, not timed);
3. one raw partial import call with every user (groups made beforehand, not timed), with a
   long client timeout: with the usual 10 s, python-keycloak retries the POST and the second
   import collides with the first on H2's locks.

Then the second run of our path on the same file (everything exists: nothing written; the
invitations left out stay planned, as they would go out on the next run) and the
ratios, baseline = our path. Our path also reads what exists (printed apart: « dont lecture »),
creates the adherent groups and writes the principals, which the two others do not. A raw call
that fails is timed until its failure, and marked ÉCHEC.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stdnum import luhn

from collecte_kc.sandbox import Sandbox, sandbox
from portal import create_app
from portal.core.domain import Change
from portal.core.keycloak import schema
from portal.core.keycloak.gateway import INVITATION_WORKERS, KeycloakGateway
from portal.core.services.bulk import check, dry_run, read_table

HEADER = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"
# A SIREN is an adherent of one groupement only: each generated file has SIRENs of its own.
_SIREN_BLOCKS = itertools.count(10_000_000, 100_000)
PER_ADHERENT = 10
INVITATION_SAMPLE = 150  # 50 collection contacts


def _siren(number: int) -> str:
    base = f"{number:08d}"
    return base + luhn.calc_check_digit(base)


def generate(size: int, tag: str) -> tuple[str, list[dict[str, Any]], list[tuple[str, str]]]:
    """The CSV text, the same people as user representations, and the adherents."""
    lines, users, adherents = [HEADER], [], []
    first = next(_SIREN_BLOCKS)
    for index in range(size):
        siren = _siren(first + index // PER_ADHERENT)
        if index % PER_ADHERENT == 0:
            adherents.append((siren, f"Commune {index // PER_ADHERENT}"))
        email = f"p{index}-{tag}@bench.fr"
        function = schema.FUNCTIONS[index % 3]  # collecte, technique, facturation in turn
        phone = f"06{index:08d}"[-10:]
        lines.append(
            f"{email};Nom;Prénom;{phone};{siren};Commune {index // PER_ADHERENT};1 2;{function}"
        )
        users.append(
            {
                "username": email,
                "email": email,
                "firstName": "Prénom",
                "lastName": "Nom",
                "enabled": True,
                "requiredActions": [schema.TERMS_AND_CONDITIONS],
                "attributes": {function: [f"{siren}/1", f"{siren}/2"]},
                "groups": [],  # filled with the groupement's path
            }
        )
    return "\n".join(lines) + "\n", users, adherents


def _groupement(platform: Sandbox, adherents: list[tuple[str, str]] | None) -> str:
    code = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
    admin = platform.admin
    admin.create_group({"name": code})
    if adherents:
        parent = admin.get_group_by_path(f"/{code}")["id"]
        for siren, name in adherents:
            admin.create_group(
                {
                    "name": siren,
                    "attributes": {schema.COMPANY_NAME: [name], schema.LOTS: ["1", "2"]},
                },
                parent=parent,
            )
    return code


def command(platform: Sandbox, size: int, tag: str) -> float:
    """Seconds the support's command takes to import a file of `size` rows (`python -m
    collecte_kc.bulk_import … --appliquer --sans-invitations`, a process of its own, as it is
    run: interpreter start and dry run included). Keycloak tells the sandbox's portal of each
    write; that portal answers from a thread of this process, not of the command's."""
    text, _, _ = generate(size, tag)
    code = _groupement(platform, None)
    file = Path(tempfile.mkdtemp(prefix="bench-fichier-")) / "membres.csv"
    file.write_text(text, encoding="utf-8")
    server = platform.keycloak
    environment = {
        **os.environ,
        "COLLECTE_BOOTSTRAP_CLIENT_ID": server.bootstrap_client_id,
        "COLLECTE_BOOTSTRAP_CLIENT_SECRET": server.bootstrap_client_secret,
    }
    arguments = [str(file), "--groupement", code, "--appliquer", "--sans-invitations"]
    arguments += ["--url", platform.keycloak_url, "--portail", platform.portal_url]
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "collecte_kc.bulk_import", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"{size} personne(s) créée(s)" in done.stdout, done.stdout[-2000:]
    return seconds


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def ours(
    gateway: KeycloakGateway, code: str, text: str, portal: str, phases: dict[str, float]
) -> Any:
    """Our path; `phases` receives the seconds spent reading (file, checks, what exists)."""
    started = time.perf_counter()
    checked = check(read_table(text.encode(), "membres.csv"))
    rows = checked.rows
    existing = gateway.import_state(code, {r.email for r in rows}, {r.siren for r in rows})
    result = dry_run(checked, existing)
    phases["read"] = time.perf_counter() - started
    assert result.plan is not None, result.errors[:3]
    if result.plan.empty:
        return None
    return gateway.apply_import(
        result.plan, f"{portal}/connexion", Change.now("benchmark", "import"), invite=False
    )


def measure(platform: Sandbox, size: int) -> dict[str, float]:
    gateway = KeycloakGateway(platform.admin)
    portal = platform.portal_url
    figures: dict[str, float] = {}

    text, _, _ = generate(size, f"ours{size}")
    code = _groupement(platform, None)
    phases: dict[str, float] = {}
    figures["ours"], outcome = _timed(lambda: ours(gateway, code, text, portal, phases))
    figures["ours_read"] = phases["read"]
    print(f"  ({size}) notre import : {figures['ours']:.1f} s", flush=True)
    assert outcome.created == size and not outcome.failures, outcome.failures[:3]
    figures["ours_again"], again = _timed(lambda: ours(gateway, code, text, portal, phases))
    # nothing written; only the invitations left out above remain planned
    assert again is None or (again.created, again.updated, again.adherents_created) == (0, 0, 0)

    _, users, adherents = generate(size, f"one{size}")
    code = _groupement(platform, adherents)
    for user, (siren, _) in zip(
        users, [a for a in adherents for _ in range(PER_ADHERENT)], strict=False
    ):
        user["groups"] = [f"/{code}/{siren}"]
    figures["one_by_one"], _ = _timed(lambda: [platform.admin.create_user(u) for u in users])
    print(f"  ({size}) un par un : {figures['one_by_one']:.1f} s", flush=True)

    _, users, adherents = generate(size, f"raw{size}")
    code = _groupement(platform, adherents)
    for user, (siren, _) in zip(
        users, [a for a in adherents for _ in range(PER_ADHERENT)], strict=False
    ):
        user["groups"] = [f"/{code}/{siren}"]

    def raw() -> None:
        connection = platform.admin.connection
        timeout, connection.timeout = connection.timeout, 1800
        try:
            response = connection.raw_post(
                "admin/realms/collecte/partialImport",
                data=json.dumps({"ifResourceExists": "SKIP", "users": users}),
            )
        finally:
            connection.timeout = timeout
        response.raise_for_status()
        assert response.json()["added"] == size

    started = time.perf_counter()
    try:
        raw()
    except Exception as error:
        figures["raw_failed"] = 1
        print(f"  import partiel brut en un appel : échec ({error})", flush=True)
    figures["raw_partial"] = time.perf_counter() - started
    return figures


def _people_to_invite(gateway: KeycloakGateway, platform: Sandbox, tag: str) -> Any:
    """A fresh groupement whose people exist but are not invited yet: the plan of the file then
    holds nothing but the invitations."""
    text, _, _ = generate(INVITATION_SAMPLE, tag)
    code = _groupement(platform, None)
    change = Change.now("benchmark", "import")
    for _ in range(2):
        checked = check(read_table(text.encode(), "membres.csv"))
        rows = checked.rows
        existing = gateway.import_state(code, {r.email for r in rows}, {r.siren for r in rows})
        result = dry_run(checked, existing)
        assert result.plan is not None
        if result.plan.people:
            gateway.apply_import(
                result.plan, f"{platform.portal_url}/connexion", change, invite=False
            )
    return result.plan


def invitation_seconds(platform: Sandbox) -> tuple[float, float]:
    """Seconds per invitation (recorded attribute + Keycloak's e-mail to the SMTP sink): one
    after the other (`invite`), then as the import sends them (`INVITATION_WORKERS` at once)."""
    gateway = KeycloakGateway(platform.admin)
    link, change = f"{platform.portal_url}/connexion", Change.now("benchmark", "import")
    plan = _people_to_invite(gateway, platform, "inv1")
    people = [gateway.find_person_by_email(e) for e in list(plan.invitations)]
    started = time.perf_counter()
    for person in people:
        assert person is not None
        gateway.invite(person.id, link, change)
    one_by_one = (time.perf_counter() - started) / len(people)
    plan = _people_to_invite(gateway, platform, "inv2")
    started = time.perf_counter()
    outcome = gateway.apply_import(plan, link, change)
    assert outcome.invitations_sent == len(plan.invitations) and not outcome.failures
    return one_by_one, (time.perf_counter() - started) / len(plan.invitations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tailles", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    with sandbox(Path(tempfile.mkdtemp(prefix="bench-import-")), create_app) as platform:
        print(f"Keycloak prêt en {platform.startup_seconds:.1f} s")
        one_by_one, per_invitation = invitation_seconds(platform)
        print(
            f"Invitation (e-mail au puits SMTP) : {one_by_one * 1000:.0f} ms par personne une à "
            f"une, {per_invitation * 1000:.0f} ms par l'import ({INVITATION_WORKERS} à la fois, "
            f"rapport {per_invitation / one_by_one:.2f})"
        )
        for size in args.tailles:
            f = measure(platform, size)
            base = f["ours"]
            print(f"\n{size} lignes (secondes, rapport à notre import)")
            raw = "import partiel brut (1 appel)" + (" ÉCHEC" if f.get("raw_failed") else "")
            for label, key in (
                ("notre import (sans invitations)", "ours"),
                ("  dont lecture de l'existant", "ours_read"),
                ("un create_user par personne", "one_by_one"),
                (raw, "raw_partial"),
                ("notre import relancé (rien à faire)", "ours_again"),
            ):
                print(f"  {label:<38} {f[key]:8.1f} s  {f[key] / base:5.2f}")
            invitations = (size + 2) // 3
            total = invitations * per_invitation
            print(
                f"  + invitations : {invitations} × {per_invitation * 1000:.0f} ms ≈ {total:.0f} s"
            )


if __name__ == "__main__":
    main()
