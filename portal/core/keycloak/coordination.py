"""Coordinators of a groupement, limited to it by Keycloak's fine-grained admin permissions (v2),
written idempotently over the Admin API (for `python -m collecte_kc.coordinators` and the demo).

- admin permissions v2 enabled in the realm (:mod:`portal.core.keycloak.admin_permissions`);
- the groupement group `/<code>` (attribute `libelle`);
- the marker group `/coordonnateurs/<code>`: its members are the groupement's coordinators. The
  parent `/coordonnateurs` carries the realm-management roles `query-users` and `query-groups`,
  which open the Users and Groups sections of the console and grant nothing by themselves;
- a group policy « coordonnateurs <code> » (members of the marker), the realm-wide role policy
  « rôle coordonnateur » (realm role `coordonnateur`), the aggregate policy « coordonnateurs
  <code> : rôle et groupe » granting only when both hold (UNANIMOUS: a person left in the marker
  group after losing the role, or given the role without the marker, gets nothing), and one
  permission granted to that aggregate, on the Groups `/<code>` and each of its subgroups (the
  adherents): view, view-members, manage-members, manage-membership,
  manage-membership-of-members. No Groups `manage` (the attributes of the groups,
  `principal.<lot>` among them), no Users `map-roles`;
- principals: a per-user permission keeping coordinators from modifying, deleting or moving a
  principal collection contact (`protect_principal`), granted to the role policy « gestionnaires
  des utilisateurs », for the principals already written;
- the coordinator: realm role `coordonnateur`, member of the marker, invited only when created
  here; if the invitation cannot be sent, the person just created is deleted.

Adherents and principals written afterwards are added live by the Keycloak extension
`CoordinatorPermissionsListener` (Java), which uses the same names and shapes as this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keycloak.exceptions import KeycloakError, KeycloakGetError

# From its module rather than from "keycloak": the repository's own keycloak/ folder (themes)
# makes ruff's isort take a bare "keycloak" for first-party.
from keycloak.keycloak_admin import KeycloakAdmin

from portal.core.keycloak import schema
from portal.core.keycloak.admin_permissions import ensure_admin_permissions, ensure_policy

REALM_MANAGEMENT = "realm-management"
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
#: Keycloak's admin console: where the invitation of a coordinator leads.
CONSOLE_CLIENT = "security-admin-console"
# The names and shapes below are also those of Keycloak's CoordinatorPermissionsListener (Java),
# which applies them live as adherents and principals are written.
USER_MANAGERS_POLICY = "gestionnaires des utilisateurs"
# Role policy every groupement permission requires besides its marker group policy.
COORDINATOR_ROLE_POLICY = "rôle coordonnateur"
# Users scopes kept from coordinators on a principal: modify or delete the person, change their
# groups. Not `view`: they still see the principal among their members.
PRINCIPAL_SCOPES = ("manage", "manage-group-membership")
#: Subgroups or groups asked per call: all of them (a realm has far fewer).
GROUPS_PAGE_SIZE = 10000


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


def _one_page() -> dict[str, int]:
    """A fresh query for every group at once (python-keycloak takes the dict as given)."""
    return {"first": 0, "max": GROUPS_PAGE_SIZE}


def find_group(admin: KeycloakAdmin, path: str) -> dict[str, Any] | None:
    """The group at `path`, or None."""
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
    group = find_group(admin, path)
    if group is None:
        admin.create_group(
            {"name": name, "attributes": attributes or {}},
            parent=parent["id"] if parent else None,
        )
        found = find_group(admin, path)
        assert found is not None
        return found
    current = group.get("attributes") or {}
    missing = {k: v for k, v in (attributes or {}).items() if k not in current}
    if missing:
        admin.update_group(group["id"], {**group, "attributes": {**current, **missing}})
        group["attributes"] = {**current, **missing}
    return group


def ensure_marker_parent(admin: KeycloakAdmin) -> dict[str, Any]:
    """`/coordonnateurs`, whose members (through its subgroups) may open the console."""
    parent = ensure_group(admin, schema.COORDINATORS_GROUP)
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
    for child in admin.get_group_children(group_id, _one_page()):
        ids += [child["id"], *_descendant_ids(admin, child["id"])]
    return ids


def ensure_groupement(
    admin: KeycloakAdmin, code: str, libelle: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The groupement group, its coordinators' marker group and their permissions."""
    client_uuid = ensure_admin_permissions(admin)
    groupement = ensure_group(admin, code, attributes={schema.GROUPEMENT_LABEL: [libelle]})
    marker = ensure_group(admin, code, parent=ensure_marker_parent(admin))
    marker_path = schema.coordinators_path(code)
    policy_id = ensure_policy(
        admin,
        client_uuid,
        "group",
        {
            "name": f"{schema.COORDINATORS_GROUP} {code}",
            "description": f"Membres du groupe {marker_path}.",
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
                f"Membres du groupe {marker_path} ayant le rôle {schema.COORDINATOR_ROLE}."
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
            "name": f"{schema.COORDINATORS_GROUP} {code} : membres du groupement",
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
    return f"{schema.COORDINATORS_GROUP} {code} : rôle et groupe"


def ensure_coordinator_role_policy(admin: KeycloakAdmin, client_uuid: str) -> str:
    """The role policy « rôle coordonnateur » (realm role `coordonnateur`), required with the
    marker group by every groupement permission; returns its id."""
    role = admin.get_realm_role(schema.COORDINATOR_ROLE)
    return ensure_policy(
        admin,
        client_uuid,
        "role",
        {
            "name": COORDINATOR_ROLE_POLICY,
            "description": f"Détenteurs du rôle de realm {schema.COORDINATOR_ROLE}.",
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
        held = {r["name"] for r in admin.get_realm_roles_of_user(user_id)}
        if schema.COORDINATOR_ROLE not in held:
            admin.assign_realm_roles(user_id, [admin.get_realm_role(schema.COORDINATOR_ROLE)])
        if marker["id"] not in {g["id"] for g in admin.get_user_groups(user_id)}:
            admin.group_user_add(user_id, marker["id"])
        if created:
            admin.send_update_account(
                user_id=user_id,
                payload=list(schema.INVITATION_ACTIONS),
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
    for child in admin.get_group_children(groupement_id, _one_page()):
        attributes = admin.get_group(child["id"]).get("attributes") or {}
        for name, values in sorted(attributes.items()):
            if name.startswith(schema.PRINCIPAL_PREFIX):
                for user_id in values:
                    protect_principal(admin, user_id)
                    protected.append(user_id)
    return protected


def protect_all_principals(admin: KeycloakAdmin) -> list[str]:
    """`protect_groupement_principals` for every groupement. Idempotent: for the principals
    written before their groupement had coordinators, and as a check."""
    return [
        user_id
        for top in admin.get_groups(_one_page())
        if top["name"] != schema.COORDINATORS_GROUP
        for user_id in protect_groupement_principals(admin, top["id"])
    ]


def set_up_groupement(
    admin: KeycloakAdmin,
    code: str,
    libelle: str,
    coordinator: Coordinator,
    public_url: str | None = None,
) -> Outcome:
    """Everything a new groupement and its first coordinator need, from checked values;
    idempotent. `public_url`: Keycloak's address for the invitation's link to the console."""
    groupement, marker = ensure_groupement(admin, code, libelle)
    # principals written before the groupement had coordinators (later ones: the listener)
    protect_groupement_principals(admin, groupement["id"])
    redirect = f"{public_url.rstrip('/')}/admin/{schema.REALM}/console/" if public_url else None
    user_id, created, invited = ensure_coordinator(admin, marker, coordinator, redirect)
    return Outcome(groupement["id"], marker["id"], user_id, created, invited)


def synchronise(admin: KeycloakAdmin) -> list[str]:
    """Bring every groupement's permission up to date with its current adherent groups, and
    protect every principal contact from coordinators (run after adding adherents or
    principals: the portal's account may do neither); returns the groupement codes."""
    protect_all_principals(admin)
    parent = find_group(admin, f"/{schema.COORDINATORS_GROUP}")
    if parent is None:
        return []
    codes = []
    for marker in admin.get_group_children(parent["id"], _one_page()):
        groupement = find_group(admin, f"/{marker['name']}")
        if groupement is None:
            continue
        attributes = groupement.get("attributes") or {}
        libelle = attributes.get(schema.GROUPEMENT_LABEL) or [marker["name"]]
        ensure_groupement(admin, marker["name"], libelle[0])
        codes.append(str(marker["name"]))
    return codes
