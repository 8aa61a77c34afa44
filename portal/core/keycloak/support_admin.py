"""What support's own Admin API writes send, and who the history names, without Flask.

The gateway (:mod:`portal.core.keycloak.gateway`) calls Keycloak; this module decides what the
writes contain
and how an admin event reads in the support history:

- withdrawing a collection function removes one ``SIREN/lot`` value of ``collecte`` and nothing
  else: the adherent's ``principal.<lot>`` is a group attribute, never touched here;
- an e-mail change sets the address, ``emailVerified: false`` and the ``VERIFY_EMAIL`` required
  action together, so the new address is confirmed before it is used to sign in;
- the history takes the author from Keycloak's record of each admin event (``authDetails``: the
  realm, client and user behind the token that made the call). Only when that caller is the
  portal's own service account does it read ``derniereModification`` in the representation,
  since any writer (a coordinator in the admin console) may put anything in that field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal.core.domain import Change, Function, HistoryEntry, Scope
from portal.core.errors import EmailTaken as EmailTaken  # re-exported: importers keep working
from portal.core.keycloak import schema

VERIFY_EMAIL = schema.VERIFY_EMAIL
#: Keycloak names a client's service account after the client (lower case).
SERVICE_ACCOUNT_PREFIX = "service-account-"
#: Who the history names when the caller signed in to another realm (master: the platform's
#: administrators, the bootstrap account of the command-line tooling).
PLATFORM_ADMIN = "administrateur de la plateforme"
#: An event of the portal's account that carries no `derniereModification` (a group joined, an
#: invitation e-mail): the write that goes with it, just before, names the person.
PORTAL = "portail (compte de service)"

_OPERATIONS = {
    "CREATE": "création",
    "UPDATE": "modification",
    "DELETE": "suppression",
    "ACTION": "action",
}
_RESOURCES = {
    ("GROUP_MEMBERSHIP", "CREATE"): "ajout à un groupe",
    ("GROUP_MEMBERSHIP", "DELETE"): "retrait d’un groupe",
    ("REALM_ROLE_MAPPING", "CREATE"): "attribution de rôles",
    ("REALM_ROLE_MAPPING", "DELETE"): "retrait de rôles",
    ("CLIENT_ROLE_MAPPING", "CREATE"): "attribution de rôles",
    ("CLIENT_ROLE_MAPPING", "DELETE"): "retrait de rôles",
}
_ACTIONS = {
    "reset-password": "mot de passe défini par un administrateur",
    "execute-actions-email": "envoi d’un e-mail d’actions",
    "logout": "sessions fermées",
    "send-verify-email": "envoi d’un e-mail de vérification",
}


# --- writes ----------------------------------------------------------------------------------


def withdraw_collection(scope: Scope) -> Callable[[dict[str, Any]], None]:
    """The edit of a user representation that removes the collection function on ``scope``."""

    def edit(representation: dict[str, Any]) -> None:
        attributes = representation.setdefault("attributes", {})
        name = Function.COLLECTE.value
        attributes[name] = [value for value in attributes.get(name, []) if value != str(scope)]

    return edit


def new_email(email: str) -> Callable[[dict[str, Any]], None]:
    """The edit that changes the e-mail (the username follows it: the realm signs in by e-mail)
    and asks the person to confirm it before it is used to sign in."""

    def edit(representation: dict[str, Any]) -> None:
        representation["email"] = email
        representation["username"] = email
        representation["emailVerified"] = False
        actions = list(representation.get("requiredActions") or [])
        if VERIFY_EMAIL not in actions:
            actions.append(VERIFY_EMAIL)
        representation["requiredActions"] = actions

    return edit


# --- the history's authors -------------------------------------------------------------------


@dataclass(frozen=True)
class PortalAccount:
    """The portal's own caller as admin events record it: its realm's id and the id of the
    service-account user of its admin client (both resolved once from Keycloak, by the realm's
    name and the account's username). The user id rather than ``authDetails.clientId``: the
    portal's account may not read clients (no ``view-clients``, and it needs none), and a
    service-account user obtains tokens only through its own client's credentials."""

    realm_id: str
    user_id: str


def service_account_username(client_id: str) -> str:
    return SERVICE_ACCOUNT_PREFIX + client_id.lower()


def _from_millis(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def change_in(representation: Any) -> Change | None:
    """The `derniereModification` carried by an admin event's JSON representation, if any."""
    try:
        data = json.loads(representation) if isinstance(representation, str) else None
        values = (data or {}).get("attributes", {}).get(schema.LAST_CHANGE) or []
    except (ValueError, AttributeError):
        return None
    return Change.from_json(values[0]) if values else None


def describe(event: dict[str, Any]) -> str:
    """What an admin event did, in French, from Keycloak's own fields only."""
    operation = str(event.get("operationType") or "")
    resource = str(event.get("resourceType") or "")
    if (resource, operation) in _RESOURCES:
        return _RESOURCES[resource, operation]
    if operation == "ACTION":
        last = str(event.get("resourcePath") or "").rsplit("/", 1)[-1]
        return _ACTIONS.get(last, _OPERATIONS["ACTION"])
    return _OPERATIONS.get(operation, operation.lower())


def entry(
    event: dict[str, Any], target: str, portal: PortalAccount, name_of: Callable[[str], str]
) -> HistoryEntry:
    """One line of the history. ``name_of``: a user id of the portal's realm → their e-mail
    (or username when they have none)."""
    at = _from_millis(event["time"])
    auth = event.get("authDetails") or {}
    realm_id, user_id = str(auth.get("realmId") or ""), str(auth.get("userId") or "")
    if realm_id == portal.realm_id and user_id == portal.user_id:
        change = change_in(event.get("representation"))
        if change is not None:
            return HistoryEntry(at, change.by, change.what, target)
        return HistoryEntry(at, PORTAL, describe(event), target)
    if realm_id != portal.realm_id:
        by = f"{PLATFORM_ADMIN} (compte {user_id or 'inconnu'})"
    else:
        by = name_of(user_id) if user_id else "inconnu"
    return HistoryEntry(at, by, describe(event), target)
