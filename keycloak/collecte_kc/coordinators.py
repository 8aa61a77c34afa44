"""Coordinators of a groupement, limited to it by fine-grained admin permissions (v2): the command.

`python -m collecte_kc.coordinators ajouter-groupement --code GRP-X --libelle "…" --coordonnateur
e-mail --prenom … --nom …` ensures, over the Admin API and idempotently, the groupement group
`/<code>`, the marker group `/coordonnateurs/<code>` of its coordinators, their permissions (on the
groupement and each adherent, never on the groups' attributes), the protection of the principal
contacts already written, and the coordinator, invited only when this run created them (deleted
again if the invitation cannot be sent, so that running again retries cleanly). What is written,
and why, is told in :mod:`portal.core.keycloak.coordination`, which makes the calls.

No password rule here: our Keycloak extensions refuse any password set through the Admin API by
someone without `manage-users` (see README, « Extensions Keycloak »).

Adherents and principals written afterwards, by the portal (whose service account may not write
permissions) or anyone else, are added live by our Keycloak extension
`CoordinatorPermissionsListener`, in the same transaction. `synchroniser` re-checks every
groupement and principal (for data written before the extension, or restored from a backup); on a
healthy realm it changes nothing.

Running it twice changes nothing. Keycloak's realm import handles these permissions badly (they
reference generated ids), hence this command.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass

from keycloak import KeycloakAdmin

from collecte_kc.provision import add_url_argument, admin_from_environment
from portal.core.keycloak.coordination import Coordinator, Outcome, set_up_groupement, synchronise

__all__ = ["Coordinator", "Outcome", "add_groupement", "synchronise"]

CODE_PATTERN = re.compile(r"GRP-[A-Z0-9]+(?:-[A-Z0-9]+)*")
EMAIL_PATTERN = re.compile(r"[^@\s/]+@[^@\s/]+\.[^@\s/]+")


class InvalidArgument(ValueError):
    """A CLI value that cannot be provisioned; the message is French and shown as is."""


def validate_code(code: str) -> str:
    if not CODE_PATTERN.fullmatch(code):
        raise InvalidArgument(
            f"Code de groupement invalide : « {code} » (attendu : GRP- suivi de majuscules, "
            "chiffres et tirets, par exemple GRP-EST-2025)."
        )
    return code


def validate_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_PATTERN.fullmatch(email):
        raise InvalidArgument(f"Adresse e-mail invalide : « {email} ».")
    return email


def validate_text(label: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidArgument(f"{label} : valeur obligatoire.")
    return value


def add_groupement(
    admin: KeycloakAdmin,
    code: str,
    libelle: str,
    coordinator: Coordinator,
    public_url: str | None = None,
) -> Outcome:
    """Everything a new groupement and its first coordinator need; idempotent. The code and the
    label are checked first (InvalidArgument, nothing written)."""
    code = validate_code(code)
    return set_up_groupement(
        admin, code, validate_text("Libellé", libelle), coordinator, public_url
    )


# --- command line --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m collecte_kc.coordinators",
        description="Groupements et coordonnateurs du realm collecte (idempotent).",
    )
    add_url_argument(parser)
    parser.add_argument(
        "--url-publique",
        help="adresse publique de Keycloak pour le lien de l'invitation (défaut : --url)",
    )
    # argparse's subcommand set-up, alike in every command line of the tooling.
    commands = parser.add_subparsers(dest="commande", required=True, metavar="commande")
    add = commands.add_parser(
        "ajouter-groupement",
        help="crée (ou complète) un groupement et son coordonnateur, et invite celui-ci",
        description=(
            "Crée le groupe /<code>, les permissions de ses coordonnateurs et le coordonnateur ; "
            "l'invitation n'est envoyée qu'à un coordonnateur créé par cette exécution."
        ),
    )
    add.add_argument("--code", required=True, help="code du groupement, par exemple GRP-EST")
    add.add_argument("--libelle", required=True, help="libellé du groupement")
    add.add_argument("--coordonnateur", required=True, help="adresse e-mail du coordonnateur")
    add.add_argument("--prenom", required=True, help="prénom du coordonnateur")
    add.add_argument("--nom", required=True, help="nom du coordonnateur")
    commands.add_parser(
        "synchroniser",
        help="met à jour les permissions de chaque groupement après l'ajout d'adhérents",
    )
    return parser


@dataclass(frozen=True)
class AddGroupementCommand:
    url: str
    public_url: str
    code: str
    libelle: str
    coordinator: Coordinator


@dataclass(frozen=True)
class SynchroniseCommand:
    url: str


def parse_args(argv: Sequence[str] | None = None) -> AddGroupementCommand | SynchroniseCommand:
    """Parse and validate; exits with status 2 and a French message on invalid input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.commande == "synchroniser":
        return SynchroniseCommand(url=args.url)
    try:
        return AddGroupementCommand(
            url=args.url,
            public_url=args.url_publique or args.url,
            code=validate_code(args.code),
            libelle=validate_text("--libelle", args.libelle),
            coordinator=Coordinator(
                email=validate_email(args.coordonnateur),
                first_name=validate_text("--prenom", args.prenom),
                last_name=validate_text("--nom", args.nom),
            ),
        )
    except InvalidArgument as error:
        parser.error(str(error))


def main(argv: Sequence[str] | None = None) -> None:
    command = parse_args(argv)
    admin = admin_from_environment(command.url)
    if isinstance(command, SynchroniseCommand):
        codes = synchronise(admin)
        print(f"Permissions à jour : {', '.join(codes) or 'aucun groupement'}.")
        return
    outcome = add_groupement(
        admin, command.code, command.libelle, command.coordinator, command.public_url
    )
    print(f"Groupement {command.code} prêt (groupe /{command.code}).")
    if outcome.invited:
        print(f"Coordonnateur {command.coordinator.email} créé et invité.")
    else:
        print(
            f"Coordonnateur {command.coordinator.email} déjà présent : rôle et groupe vérifiés, "
            "aucune invitation envoyée."
        )


if __name__ == "__main__":
    main()
