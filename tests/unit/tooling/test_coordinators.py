"""The coordinators CLI: argument parsing and validation, without any server; what
`protect_principal` asks Keycloak for (tests/integration/test_coordinator_principals.py checks its
effect)."""

from __future__ import annotations

from typing import Any

import pytest

from collecte_kc.coordinators import (
    AddGroupementCommand,
    Coordinator,
    SynchroniseCommand,
    parse_args,
)
from portal.core.keycloak import coordination
from portal.core.keycloak.coordination import protect_principal

VALID = [
    "ajouter-groupement",
    "--code",
    "GRP-EST-2025",
    "--libelle",
    " Groupement de l'Est ",
    "--coordonnateur",
    " Claire.Martin@Groupement-Est.fr ",
    "--prenom",
    "Claire",
    "--nom",
    "Martin",
]


def test_valid_arguments_are_parsed_and_normalised(monkeypatch):
    monkeypatch.delenv("COLLECTE_KEYCLOAK_URL", raising=False)
    command = parse_args(VALID)
    assert command == AddGroupementCommand(
        url="http://localhost:8080",
        public_url="http://localhost:8080",
        code="GRP-EST-2025",
        libelle="Groupement de l'Est",
        coordinator=Coordinator("claire.martin@groupement-est.fr", "Claire", "Martin"),
    )


def test_urls_come_from_options_or_environment(monkeypatch):
    monkeypatch.setenv("COLLECTE_KEYCLOAK_URL", "http://kc.interne:8080")
    command = parse_args(["--url-publique", "https://identite.exemple.fr", *VALID])
    assert isinstance(command, AddGroupementCommand)
    assert command.url == "http://kc.interne:8080"
    assert command.public_url == "https://identite.exemple.fr"


def test_synchronise_needs_no_other_argument():
    assert parse_args(["--url", "http://kc:8080", "synchroniser"]) == SynchroniseCommand(
        "http://kc:8080"
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--code", "grp-est", "Code de groupement invalide"),
        ("--code", "GRP-", "Code de groupement invalide"),
        ("--code", "GRP-A/B", "Code de groupement invalide"),
        ("--code", "coordonnateurs", "Code de groupement invalide"),
        ("--coordonnateur", "claire", "Adresse e-mail invalide"),
        ("--coordonnateur", "claire@exemple", "Adresse e-mail invalide"),
        ("--libelle", "   ", "--libelle : valeur obligatoire"),
        ("--prenom", "", "--prenom : valeur obligatoire"),
        ("--nom", " ", "--nom : valeur obligatoire"),
    ],
)
def test_invalid_values_are_refused_in_french(capsys, option, value, message):
    argv = list(VALID)
    argv[argv.index(option) + 1] = value
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_every_option_is_required(capsys):
    with pytest.raises(SystemExit) as exited:
        parse_args(["ajouter-groupement", "--code", "GRP-EST"])
    assert exited.value.code == 2
    assert "--libelle" in capsys.readouterr().err


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exited:
        parse_args([])
    assert exited.value.code == 2


class _Admin:
    """Just what protect_principal reads besides the policies."""

    def get_client_id(self, client_id: str) -> str:
        assert client_id == "realm-management"
        return "rm-uuid"

    def get_client_role(self, client_uuid: str, name: str) -> dict[str, str]:
        assert (client_uuid, name) == ("rm-uuid", "manage-users")
        return {"id": "manage-users-id", "name": name}


def test_protect_principal_keeps_manage_of_that_person_to_user_managers(monkeypatch):
    sent: list[tuple[str, dict[str, Any]]] = []

    def ensure_policy(admin: Any, client_uuid: str, kind: str, rep: dict[str, Any]) -> str:
        assert client_uuid == "perm-uuid"
        sent.append((kind, rep))
        return f"{kind}-id"

    monkeypatch.setattr(coordination, "ensure_admin_permissions", lambda admin: "perm-uuid")
    monkeypatch.setattr(coordination, "ensure_policy", ensure_policy)
    assert protect_principal(_Admin(), "principal-id") == "scope-id"  # type: ignore[arg-type]
    (policy_kind, policy), (permission_kind, permission) = sent
    assert policy_kind == "role" and policy["logic"] == "POSITIVE"
    assert policy["roles"] == [{"id": "manage-users-id", "required": True}]
    assert permission_kind == "scope"
    assert permission["name"] == "interlocuteur principal principal-id"
    assert permission["resourceType"] == "Users"
    assert permission["resources"] == ["principal-id"]
    # not view: coordinators still see the principal among their members
    assert permission["scopes"] == ["manage", "manage-group-membership"]
    assert permission["policies"] == ["role-id"]


class _GroupementAdmin(_Admin):
    """What ensure_groupement reads besides groups and policies."""

    def get_realm_role(self, name: str) -> dict[str, str]:
        assert name == "coordonnateur"
        return {"id": "coordinator-role-id", "name": name}


def test_a_groupement_permission_needs_the_marker_group_and_the_role(monkeypatch):
    """Granted to one aggregate policy (UNANIMOUS) of the marker group policy and the role
    policy: Keycloak's partial evaluation of user searches ignores the decision strategy of the
    permission itself (tests/integration/test_coordinator_permissions.py shows the effect)."""
    sent: dict[str, tuple[str, dict[str, Any]]] = {}

    def ensure_policy(admin: Any, client_uuid: str, kind: str, rep: dict[str, Any]) -> str:
        sent[rep["name"]] = (kind, rep)
        return f"{rep['name']}-id"

    def ensure_group(admin: Any, name: str, parent: Any = None, attributes: Any = None) -> Any:
        return {"id": f"{name}-{'marker' if parent else 'group'}", "path": f"/{name}"}

    monkeypatch.setattr(coordination, "ensure_admin_permissions", lambda admin: "perm-uuid")
    monkeypatch.setattr(coordination, "ensure_group", ensure_group)
    monkeypatch.setattr(coordination, "ensure_marker_parent", lambda admin: {"id": "parent"})
    monkeypatch.setattr(coordination, "_descendant_ids", lambda admin, group_id: ["adherent"])
    monkeypatch.setattr(coordination, "ensure_policy", ensure_policy)
    coordination.ensure_groupement(_GroupementAdmin(), "GRP-EST", "Est")  # type: ignore[arg-type]

    kind, group = sent["coordonnateurs GRP-EST"]
    assert kind == "group" and group["groups"] == [
        {"id": "GRP-EST-marker", "extendChildren": False}
    ]
    kind, role = sent["rôle coordonnateur"]
    assert kind == "role" and role["roles"] == [{"id": "coordinator-role-id", "required": True}]
    kind, both = sent["coordonnateurs GRP-EST : rôle et groupe"]
    assert kind == "aggregate" and both["decisionStrategy"] == "UNANIMOUS"
    assert both["logic"] == "POSITIVE"
    assert both["policies"] == ["coordonnateurs GRP-EST-id", "rôle coordonnateur-id"]
    kind, permission = sent["coordonnateurs GRP-EST : membres du groupement"]
    assert kind == "scope" and permission["policies"] == [
        "coordonnateurs GRP-EST : rôle et groupe-id"
    ]
    assert permission["resources"] == ["GRP-EST-group", "adherent"]
    assert "manage" not in permission["scopes"]
