"""Coordinators of a groupement, limited to it by fine-grained admin permissions (v2).

`python -m collecte_kc.coordinators ajouter-groupement --code GRP-X --libelle "…" --coordonnateur
e-mail --prenom … --nom …` ensures, over the Admin API and idempotently:

- admin permissions v2 enabled in the realm (the `admin-permissions` client is Keycloak's);
- the groupement group `/<code>` (attribute `libelle`);
- the marker group `/coordonnateurs/<code>`: its members are the groupement's coordinators. The
  parent `/coordonnateurs` carries the realm-management roles `query-users` and `query-groups`,
  which open the Users and Groups sections of the console and grant nothing by themselves;
- a group policy « coordonnateurs <code> » (members of the marker), the realm-wide role policy
  « rôle coordonnateur » (realm role `coordonnateur`), the aggregate policy « coordonnateurs
  <code> : rôle et groupe » granting only when both hold (UNANIMOUS: a person left in the marker
  group after losing the role, or given the role without the marker, gets nothing), and one
  permission granted to that aggregate, on the Groups `/<code>` and each of its subgroups (the
  adherents): view, view-members,
  manage-members, manage-membership, manage-membership-of-members. No Groups `manage` (the
  attributes of the groups, `principal.<lot>` among them), no Users `map-roles`;
- no password rule here: our Keycloak extensions refuse any password set through the Admin API
  by someone without `manage-users` (see README, « Extensions Keycloak »);
- principals: a per-user permission keeping coordinators from modifying, deleting or moving a
  principal collection contact (`protect_principal`), granted to the role policy « gestionnaires
  des utilisateurs » made here, for the principals already written.

Adherents and principals written afterwards, by the portal (whose service account may not
write permissions) or anyone else, are added live by our Keycloak extension
`CoordinatorPermissionsListener`, in the same transaction. `synchroniser` re-checks every
groupement and principal (for data written before the extension, or restored from a backup);
on a healthy realm it changes nothing.
- the coordinator: realm role `coordonnateur`, member of the marker, invited (choose a password,
  accept the CGU, confirm the e-mail) only when this run created them. If the invitation cannot
  be sent, the person just created is deleted, so running again retries cleanly.

Running it twice changes nothing. Keycloak's realm import handles these permissions badly (they
reference generated ids), hence this script.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError, KeycloakGetError

from collecte_kc.provision import REALM, add_url_argument, admin_from_environment

ADMIN_PERMISSIONS_CLIENT = "admin-permissions"
REALM_MANAGEMENT = "realm-management"
MARKER_PARENT = "coordonnateurs"
COORDINATOR_ROLE = "coordonnateur"
# Realm-management roles that open the console's Users and Groups sections: query only.
CONSOLE_ROLES = ("query-users", "query-groups")
# Groups scopes a coordinator holds on their groupement (and, for the *-members ones, its
# subgroups). Deliberately absent: `manage` (group attributes such as principal.<lot>).
GROUPEMENT_SCOPES = (
    "view",
    "view-members",
    "manage-members",
    "manage-membership",
    "manage-membership-of-members",
)
INVITATION_ACTIONS = ["UPDATE_PASSWORD", "TERMS_AND_CONDITIONS", "VERIFY_EMAIL"]
CONSOLE_CLIENT = "security-admin-console"
# The names and shapes below are also those of Keycloak's CoordinatorPermissionsListener (Java),
# which applies them live as adherents and principals are written.
USER_MANAGERS_POLICY = "gestionnaires des utilisateurs"
# Role policy every groupement permission requires besides its marker group policy.
COORDINATOR_ROLE_POLICY = "rôle coordonnateur"
# Users scopes kept from coordinators on a principal: modify or delete the person, change their
# groups. Not `view`: they still see the principal among their members.
PRINCIPAL_SCOPES = ("manage", "manage-group-membership")

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


@dataclass(frozen=True)
class Coordinator:
    email: str
    first_name: str
    last_name: str


@dataclass(frozen=True)
class Outcome:
    groupement_id: str
    marker_id: str
    coordinator_id: str
    coordinator_created: bool
    invited: bool


# --- low-level helpers over the Admin API -------------------------------------------------


def _authz(client_uuid: str) -> str:
    return f"admin/realms/{REALM}/clients/{client_uuid}/authz/resource-server"


def _json(response: Any) -> Any:
    response.raise_for_status()
    return response.json() if response.content else None


def _group(admin: KeycloakAdmin, path: str) -> dict[str, Any] | None:
    try:
        return dict(admin.get_group_by_path(path))
    except KeycloakGetError as error:
        if error.response_code == 404:
            return None
        raise


def ensure_group(
    admin: KeycloakAdmin,
    name: str,
    parent: dict[str, Any] | None = None,
    attributes: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The group `name` (under `parent`), created if missing; missing attributes are added,
    existing ones are left as they are."""
    path = f"{parent['path']}/{name}" if parent else f"/{name}"
    group = _group(admin, path)
    if group is None:
        admin.create_group(
            {"name": name, "attributes": attributes or {}},
            parent=parent["id"] if parent else None,
        )
        found = _group(admin, path)
        assert found is not None
        return found
    current = group.get("attributes") or {}
    missing = {k: v for k, v in (attributes or {}).items() if k not in current}
    if missing:
        admin.update_group(group["id"], {**group, "attributes": {**current, **missing}})
        group["attributes"] = {**current, **missing}
    return group


def ensure_admin_permissions(admin: KeycloakAdmin) -> str:
    """Enable admin permissions v2 in the realm if needed; return the id of the
    `admin-permissions` client Keycloak creates for them."""
    if not admin.get_realm(REALM).get("adminPermissionsEnabled"):
        admin.update_realm(REALM, {"adminPermissionsEnabled": True})
    client_uuid = admin.get_client_id(ADMIN_PERMISSIONS_CLIENT)
    if client_uuid is None:
        raise RuntimeError("Le client admin-permissions est absent malgré l'activation.")
    return str(client_uuid)


def _find_by_name(admin: KeycloakAdmin, client_uuid: str, name: str) -> dict[str, Any] | None:
    """A policy or permission of the admin-permissions client, by exact name."""
    found = _json(
        admin.connection.raw_get(f"{_authz(client_uuid)}/policy", name=name, first=0, max=100)
    )
    return next((p for p in found or [] if p.get("name") == name), None)


def _policy_state(admin: KeycloakAdmin, client_uuid: str, policy: dict[str, Any]) -> Any:
    """What we manage of an existing policy, in the shape of the representation we send."""
    kind, pid = policy["type"], policy["id"]
    full = _json(admin.connection.raw_get(f"{_authz(client_uuid)}/policy/{kind}/{pid}"))
    if kind == "group":
        groups = sorted((g["id"], bool(g.get("extendChildren"))) for g in full["groups"])
        return (full.get("description"), full.get("logic"), groups)
    if kind == "role":
        roles = sorted((r["id"], bool(r.get("required"))) for r in full["roles"])
        return (full.get("description"), full.get("logic"), roles)
    sub = f"{_authz(client_uuid)}/policy/{pid}"
    if kind == "aggregate":
        associated = sorted(
            p["id"] for p in _json(admin.connection.raw_get(f"{sub}/associatedPolicies"))
        )
        return (
            full.get("description"),
            full.get("logic"),
            full.get("decisionStrategy"),
            associated,
        )
    # scope permission
    policies = sorted(p["id"] for p in _json(admin.connection.raw_get(f"{sub}/associatedPolicies")))
    scopes = sorted(s["name"] for s in _json(admin.connection.raw_get(f"{sub}/scopes")))
    resources = sorted(
        r["name"]
        for r in _json(admin.connection.raw_get(f"{sub}/resources"))
        if r["name"] != full.get("resourceType")  # the "all resources of the type" resource
    )
    return (
        full.get("description"),
        full.get("resourceType"),
        full.get("decisionStrategy"),
        policies,
        scopes,
        resources,
    )


def _wanted_state(kind: str, rep: dict[str, Any]) -> Any:
    if kind == "group":
        groups = sorted((g["id"], bool(g.get("extendChildren"))) for g in rep["groups"])
        return (rep.get("description"), rep.get("logic", "POSITIVE"), groups)
    if kind == "role":
        roles = sorted((r["id"], bool(r.get("required"))) for r in rep["roles"])
        return (rep.get("description"), rep.get("logic", "POSITIVE"), roles)
    if kind == "aggregate":
        return (
            rep.get("description"),
            rep.get("logic", "POSITIVE"),
            rep.get("decisionStrategy", "UNANIMOUS"),
            sorted(rep["policies"]),
        )
    return (
        rep.get("description"),
        rep.get("resourceType"),
        rep.get("decisionStrategy", "UNANIMOUS"),
        sorted(rep["policies"]),
        sorted(rep["scopes"]),
        sorted(rep.get("resources", [])),
    )


def ensure_policy(admin: KeycloakAdmin, client_uuid: str, kind: str, rep: dict[str, Any]) -> str:
    """Create or correct a policy (`group`, `role`, `aggregate`) or a permission (`scope`) of the
    admin-permissions client; leave it untouched when it already is as wanted. Returns its id."""
    base = f"{_authz(client_uuid)}/{'permission' if kind == 'scope' else 'policy'}/{kind}"
    existing = _find_by_name(admin, client_uuid, rep["name"])
    if existing is None:
        created = _json(admin.connection.raw_post(base, data=json.dumps(rep)))
        return str(created["id"])
    if existing["type"] != kind:
        raise RuntimeError(f"« {rep['name']} » existe déjà avec le type {existing['type']}.")
    if _policy_state(admin, client_uuid, existing) != _wanted_state(kind, rep):
        response = admin.connection.raw_put(
            f"{base}/{existing['id']}", data=json.dumps({**rep, "id": existing["id"]})
        )
        response.raise_for_status()
    return str(existing["id"])


# --- what the platform needs ----------------------------------------------------------------


def ensure_marker_parent(admin: KeycloakAdmin) -> dict[str, Any]:
    """`/coordonnateurs`, whose members (through its subgroups) may open the console."""
    parent = ensure_group(admin, MARKER_PARENT)
    realm_management = admin.get_client_id(REALM_MANAGEMENT)
    assert realm_management is not None
    held = {role["name"] for role in admin.get_group_client_roles(parent["id"], realm_management)}
    missing = [
        admin.get_client_role(realm_management, name) for name in CONSOLE_ROLES if name not in held
    ]
    if missing:
        admin.assign_group_client_roles(parent["id"], realm_management, missing)
    return parent


def _descendant_ids(admin: KeycloakAdmin, group_id: str) -> list[str]:
    """Ids of every subgroup (adherents) below a group. Keycloak 26.7.3 applies a Groups
    permission to the listed groups and their direct members only (not to subgroups, despite
    its documentation): each adherent group must be listed (later ones: the listener)."""
    ids = []
    for child in admin.get_group_children(group_id, {"first": 0, "max": 10000}):
        ids += [child["id"], *_descendant_ids(admin, child["id"])]
    return ids


def ensure_groupement(
    admin: KeycloakAdmin, code: str, libelle: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The groupement group, its coordinators' marker group and their permissions."""
    client_uuid = ensure_admin_permissions(admin)
    groupement = ensure_group(admin, code, attributes={"libelle": [libelle]})
    marker = ensure_group(admin, code, parent=ensure_marker_parent(admin))
    policy_id = ensure_policy(
        admin,
        client_uuid,
        "group",
        {
            "name": f"coordonnateurs {code}",
            "description": f"Membres du groupe /{MARKER_PARENT}/{code}.",
            "logic": "POSITIVE",
            "groups": [{"id": marker["id"], "extendChildren": False}],
        },
    )
    # Both the marker group and the role, in one aggregate policy: Keycloak's partial evaluation
    # (user searches) ignores a permission's own decision strategy, not an aggregate's.
    both_id = ensure_policy(
        admin,
        client_uuid,
        "aggregate",
        {
            "name": coordinators_policy(code),
            "description": (
                f"Membres du groupe /{MARKER_PARENT}/{code} ayant le rôle {COORDINATOR_ROLE}."
            ),
            "logic": "POSITIVE",
            "decisionStrategy": "UNANIMOUS",
            "policies": [policy_id, ensure_coordinator_role_policy(admin, client_uuid)],
        },
    )
    ensure_user_managers_policy(admin, client_uuid)
    ensure_policy(
        admin,
        client_uuid,
        "scope",
        {
            "name": f"coordonnateurs {code} : membres du groupement",
            "description": (
                f"Voir, créer et modifier les membres de /{code} et de ses adhérents, gérer leurs "
                "appartenances ; pas les attributs des groupes."
            ),
            "resourceType": "Groups",
            "resources": [groupement["id"], *_descendant_ids(admin, groupement["id"])],
            "scopes": list(GROUPEMENT_SCOPES),
            "policies": [both_id],
            "decisionStrategy": "UNANIMOUS",
        },
    )
    return groupement, marker


def coordinators_policy(code: str) -> str:
    """Name of the policy a groupement's permission is granted to (marker group AND role)."""
    return f"coordonnateurs {code} : rôle et groupe"


def ensure_coordinator_role_policy(admin: KeycloakAdmin, client_uuid: str) -> str:
    """The role policy « rôle coordonnateur » (realm role `coordonnateur`), required with the
    marker group by every groupement permission; returns its id."""
    role = admin.get_realm_role(COORDINATOR_ROLE)
    return ensure_policy(
        admin,
        client_uuid,
        "role",
        {
            "name": COORDINATOR_ROLE_POLICY,
            "description": f"Détenteurs du rôle de realm {COORDINATOR_ROLE}.",
            "logic": "POSITIVE",
            "roles": [{"id": role["id"], "required": True}],
        },
    )


def ensure_coordinator(
    admin: KeycloakAdmin,
    marker: dict[str, Any],
    person: Coordinator,
    redirect_uri: str | None,
) -> tuple[str, bool, bool]:
    """The coordinator (role, marker membership); invited only when created by this call.
    Returns (id, created, invited)."""
    user_id = admin.get_user_id(person.email)
    created = user_id is None
    if user_id is None:
        user_id = admin.create_user(
            {
                "email": person.email,
                "firstName": person.first_name,
                "lastName": person.last_name,
                "enabled": True,
            }
        )
    try:
        if COORDINATOR_ROLE not in {r["name"] for r in admin.get_realm_roles_of_user(user_id)}:
            admin.assign_realm_roles(user_id, [admin.get_realm_role(COORDINATOR_ROLE)])
        if marker["id"] not in {g["id"] for g in admin.get_user_groups(user_id)}:
            admin.group_user_add(user_id, marker["id"])
        if created:
            admin.send_update_account(
                user_id=user_id,
                payload=INVITATION_ACTIONS,
                client_id=CONSOLE_CLIENT if redirect_uri else None,
                redirect_uri=redirect_uri,
            )
    except KeycloakError:
        if created:  # leave nothing half made: the next run starts again from scratch
            admin.delete_user(user_id)
        raise
    return str(user_id), created, created


def ensure_user_managers_policy(admin: KeycloakAdmin, client_uuid: str) -> str:
    """The role policy « gestionnaires des utilisateurs » (realm-management `manage-users`)
    that principal permissions grant to; made with each groupement, so that Keycloak's listener
    (CoordinatorPermissionsListener) protects principals as soon as coordinators exist."""
    realm_management = admin.get_client_id(REALM_MANAGEMENT)
    assert realm_management is not None
    manage_users = admin.get_client_role(realm_management, "manage-users")
    return ensure_policy(
        admin,
        client_uuid,
        "role",
        {
            "name": USER_MANAGERS_POLICY,
            "description": "Détenteurs du rôle manage-users de realm-management.",
            "logic": "POSITIVE",
            "roles": [{"id": manage_users["id"], "required": True}],
        },
    )


def protect_principal(admin: KeycloakAdmin, user_id: str) -> str:
    """Keep coordinators off a principal collection contact: a Users permission on this person
    alone, scopes `PRINCIPAL_SCOPES` (modify, e-mail included; delete; join or leave groups),
    granted only to holders of realm-management `manage-users` (who need no permission anyway):
    a coordinator's `manage-members` on the adherent's group no longer reaches this person,
    while `view` still does. To call, with the provisioning's rights (the portal's service account
    gets 403), once `principal.<lot>` is written. Idempotent; returns the permission's id."""
    client_uuid = ensure_admin_permissions(admin)
    policy_id = ensure_user_managers_policy(admin, client_uuid)
    return ensure_policy(
        admin,
        client_uuid,
        "scope",
        {
            "name": f"interlocuteur principal {user_id}",
            "description": (
                "Interlocuteur principal d'un SIREN et d'un lot : modifiable et supprimable par "
                "les gestionnaires des utilisateurs seulement, pas par les coordonnateurs."
            ),
            "resourceType": "Users",
            "resources": [user_id],
            "scopes": list(PRINCIPAL_SCOPES),
            "policies": [policy_id],
            "decisionStrategy": "UNANIMOUS",
        },
    )


def protect_groupement_principals(admin: KeycloakAdmin, groupement_id: str) -> list[str]:
    """`protect_principal` for every id in a `principal.<lot>` attribute of the groupement's
    adherent groups (`/<groupement>/<SIREN>`); returns the ids."""
    protected = []
    for child in admin.get_group_children(groupement_id, {"first": 0, "max": 10000}):
        attributes = admin.get_group(child["id"]).get("attributes") or {}
        for name, values in sorted(attributes.items()):
            if name.startswith("principal."):
                for user_id in values:
                    protect_principal(admin, user_id)
                    protected.append(user_id)
    return protected


def protect_all_principals(admin: KeycloakAdmin) -> list[str]:
    """`protect_groupement_principals` for every groupement. Idempotent: for the principals
    written before their groupement had coordinators, and as a check."""
    return [
        user_id
        for top in admin.get_groups({"first": 0, "max": 10000})
        if top["name"] != MARKER_PARENT
        for user_id in protect_groupement_principals(admin, top["id"])
    ]


def add_groupement(
    admin: KeycloakAdmin,
    code: str,
    libelle: str,
    coordinator: Coordinator,
    public_url: str | None = None,
) -> Outcome:
    """Everything a new groupement and its first coordinator need; idempotent."""
    code = validate_code(code)
    groupement, marker = ensure_groupement(admin, code, validate_text("Libellé", libelle))
    # principals written before the groupement had coordinators (later ones: the listener)
    protect_groupement_principals(admin, groupement["id"])
    redirect = f"{public_url.rstrip('/')}/admin/{REALM}/console/" if public_url else None
    user_id, created, invited = ensure_coordinator(admin, marker, coordinator, redirect)
    return Outcome(groupement["id"], marker["id"], user_id, created, invited)


def synchronise(admin: KeycloakAdmin) -> list[str]:
    """Bring every groupement's permission up to date with its current adherent groups, and
    protect every principal contact from coordinators (run after adding adherents or
    principals: the portal's account may do neither); returns the groupement codes."""
    protect_all_principals(admin)
    parent = _group(admin, f"/{MARKER_PARENT}")
    if parent is None:
        return []
    codes = []
    for marker in admin.get_group_children(parent["id"], {"first": 0, "max": 10000}):
        groupement = _group(admin, f"/{marker['name']}")
        if groupement is None:
            continue
        libelle = (groupement.get("attributes") or {}).get("libelle") or [marker["name"]]
        ensure_groupement(admin, marker["name"], libelle[0])
        codes.append(str(marker["name"]))
    return codes


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
