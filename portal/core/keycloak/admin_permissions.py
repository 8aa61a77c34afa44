"""Fine-grained admin permissions (v2) of the realm: the policies and permissions of the
``admin-permissions`` client, written idempotently.

Keycloak's realm import handles these badly (they reference generated ids), so the provisioning
writes them over the Admin API (:mod:`portal.core.keycloak.coordination` says which). Each
``ensure_policy`` compares what Keycloak holds with what is wanted, field by field, and writes
only a difference: a second run changes nothing. python-keycloak has no calls for the v2
permissions, hence the raw URLs of the client's resource server.
"""

from __future__ import annotations

import json
from typing import Any

# From its module rather than from "keycloak": the repository's own keycloak/ folder (themes)
# makes ruff's isort take a bare "keycloak" for first-party.
from keycloak.keycloak_admin import KeycloakAdmin

from portal.core.keycloak import schema

#: Keycloak's own client holding the realm's admin permissions once they are enabled.
ADMIN_PERMISSIONS_CLIENT = "admin-permissions"


def _authz(client_uuid: str) -> str:
    return f"admin/realms/{schema.REALM}/clients/{client_uuid}/authz/resource-server"


def _json(response: Any) -> Any:
    response.raise_for_status()
    return response.json() if response.content else None


def ensure_admin_permissions(admin: KeycloakAdmin) -> str:
    """Enable admin permissions v2 in the realm if needed; return the id of the
    `admin-permissions` client Keycloak creates for them."""
    if not admin.get_realm(schema.REALM).get("adminPermissionsEnabled"):
        admin.update_realm(schema.REALM, {"adminPermissionsEnabled": True})
    client_uuid = admin.get_client_id(ADMIN_PERMISSIONS_CLIENT)
    if client_uuid is None:
        raise RuntimeError("Le client admin-permissions est absent malgré l'activation.")
    return str(client_uuid)


def find_by_name(admin: KeycloakAdmin, client_uuid: str, name: str) -> dict[str, Any] | None:
    """A policy or permission of the admin-permissions client, by exact name."""
    found = _json(
        admin.connection.raw_get(f"{_authz(client_uuid)}/policy", name=name, first=0, max=100)
    )
    return next((p for p in found or [] if p.get("name") == name), None)


def policy_state(admin: KeycloakAdmin, client_uuid: str, policy: dict[str, Any]) -> Any:
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
    existing = find_by_name(admin, client_uuid, rep["name"])
    if existing is None:
        created = _json(admin.connection.raw_post(base, data=json.dumps(rep)))
        return str(created["id"])
    if existing["type"] != kind:
        raise RuntimeError(f"« {rep['name']} » existe déjà avec le type {existing['type']}.")
    if policy_state(admin, client_uuid, existing) != _wanted_state(kind, rep):
        response = admin.connection.raw_put(
            f"{base}/{existing['id']}", data=json.dumps({**rep, "id": existing["id"]})
        )
        response.raise_for_status()
    return str(existing["id"])
