"""Import en masse des membres d'un groupement (support, ligne de commande).

```sh
export COLLECTE_BOOTSTRAP_CLIENT_SECRET=…
python -m collecte_kc.bulk_import membres.csv --groupement GRP-EST
python -m collecte_kc.bulk_import membres.xlsx --groupement GRP-EST --appliquer
```

Sans ``--appliquer`` : essai à blanc, rapport ligne par ligne, rien n'est écrit. Avec : rien n'est
écrit non plus si une ligne est en erreur (code de sortie 1) ; sinon le plan est appliqué (barre
de progression) et les invitations envoyées ; Keycloak ouvre aussitôt les nouveaux adhérents aux
coordonnateurs du groupement (extension CoordinatorPermissionsListener). Relancer la même commande
ne change rien.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from collecte_kc.provision import add_url_argument, admin_from_environment
from portal.core import safe_files
from portal.core.domain import Change
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.services.bulk import (
    DryRun,
    FileError,
    Kind,
    Outcome,
    check,
    dry_run,
    import_steps,
    read_table,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m collecte_kc.bulk_import",
        description="Importe les membres d'un groupement (CSV ou XLSX) ; essai à blanc par défaut.",
    )
    parser.add_argument("fichier", type=Path, help="fichier .csv (UTF-8, ; ou ,) ou .xlsx")
    parser.add_argument("--groupement", required=True, help="code du groupement, ex. GRP-EST")
    parser.add_argument(
        "--appliquer", action="store_true", help="écrit dans Keycloak et envoie les invitations"
    )
    parser.add_argument(
        "--sans-invitations",
        action="store_true",
        help="n'envoie pas les invitations (elles partiront au prochain import)",
    )
    add_url_argument(parser)
    parser.add_argument(
        "--portail",
        default=os.environ.get("COLLECTE_PORTAL_URL", "http://localhost:5000"),
        help="adresse du portail, où mène l'invitation (défaut : COLLECTE_PORTAL_URL)",
    )
    return parser


def print_report(result: DryRun) -> None:
    for line in result.report:
        kind = "ERREUR" if line.kind is Kind.ERROR else "note"
        column = f" [{line.column}]" if line.column else ""
        print(f"ligne {line.line:>5} {kind}{column} : {line.message}")
    plan = result.plan
    errors = len(result.errors)
    if plan is None:
        print(f"{errors} ligne(s) en erreur : rien ne sera importé. Corrigez le fichier.")
        return
    print(
        f"Prévu : {len(plan.adherents)} adhérent(s) à créer, {len(plan.people)} personne(s) à "
        f"créer, {len(plan.updates)} à compléter, {len(plan.principals)} interlocuteur(s) "
        f"principal(aux) à désigner, {len(plan.invitations)} invitation(s), "
        f"{plan.unchanged} ligne(s) sans changement."
    )


def print_outcome(outcome: Outcome) -> None:
    for line in outcome.failures:
        print(f"ligne {line.line:>5} ÉCHEC : {line.message}")
    print(
        f"Fait : {outcome.adherents_created} adhérent(s) créé(s), {outcome.created} personne(s) "
        f"créée(s), {outcome.updated} complétée(s), {outcome.principals} principal(aux), "
        f"{outcome.invitations_sent} invitation(s) envoyée(s), {outcome.unchanged} ligne(s) "
        "sans changement."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # Never more than the limit in memory: a larger file is refused by read_table.
        with args.fichier.open("rb") as file:
            data = file.read(safe_files.MAX_FILE_BYTES + 1)
        checked = check(read_table(data, args.fichier.name))
    except (FileError, OSError) as error:
        print(f"Fichier illisible : {error}", file=sys.stderr)
        return 1
    admin = admin_from_environment(args.url)
    gateway = KeycloakGateway(admin)
    if not gateway.groupement_exists(args.groupement):
        print(f"Groupement inconnu : {args.groupement}.", file=sys.stderr)
        return 1
    emails, sirens = {row.email for row in checked.rows}, {row.siren for row in checked.rows}
    result = dry_run(checked, gateway.import_state(args.groupement, emails, sirens))
    print_report(result)
    if result.plan is None:
        return 1
    if not args.appliquer:
        print("Essai à blanc : rien n'a été écrit. Relancez avec --appliquer pour importer.")
        return 0
    invite = not args.sans_invitations
    change = Change.now(f"import en masse ({getpass.getuser()})", "import en masse")
    with tqdm(total=import_steps(result.plan, invite), unit="étape", desc="Import") as bar:
        outcome = gateway.apply_import(
            result.plan,
            f"{args.portail.rstrip('/')}/connexion",
            change,
            invite=invite,
            progress=bar.update,
        )
    print_outcome(outcome)
    return 1 if outcome.failures else 0


if __name__ == "__main__":
    sys.exit(main())
