"""Keycloak JSON ↔ domain objects, and the edits a write applies to a user representation.

Pure functions: no call to Keycloak here. A person is built by
:meth:`portal.core.domain.Person.from_representation`; an adherent by :func:`adherent`. The
edits (``*_edit``) change a user representation in place and may run more than once (a write
refused as stale is redone on a new read: :mod:`portal.core.keycloak.revisions`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from portal.core.domain import (
    SIREN_PATTERN,
    Adherent,
    Change,
    CollectionRequest,
    ContactDetails,
    Function,
    RequestStatus,
    Scope,
)
from portal.core.errors import UnknownRequest
from portal.core.keycloak import schema

#: An edit of a user representation (``firstName``, ``attributes``…), applied before a write.
UserEdit = Callable[[dict[str, Any]], None]
#: An edit of a group's attributes; returns False when there is nothing to write.
GroupEdit = Callable[[dict[str, list[str]]], bool]

# Read-only parts of a user representation that an update must not send back.
_READ_ONLY_KEYS = ("access", "createdTimestamp", "disableableCredentialTypes", "totp", "notBefore")
# Attributes Keycloak itself writes (CGU acceptance date and version): the admin API may not
# edit them, and an update that leaves them out keeps them.
_KEYCLOAK_ATTRIBUTES = (schema.TERMS_ACCEPTED_AT, schema.TERMS_ACCEPTED_VERSION)
#: The value of :data:`schema.PENDING_REQUEST` while a request waits.
PENDING = "oui"


def writable(representation: dict[str, Any]) -> dict[str, Any]:
    """The representation as an update may send it back."""
    kept = {k: v for k, v in representation.items() if k not in _READ_ONLY_KEYS}
    attributes = dict(kept.get("attributes") or {})
    for name in _KEYCLOAK_ATTRIBUTES:
        attributes.pop(name, None)
    kept["attributes"] = attributes
    return kept


def from_millis(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def new_user(details: ContactDetails, attributes: dict[str, list[str]], *paths: str) -> Any:
    """The representation creating a person, their attributes and group memberships at once."""
    set_optional(attributes, schema.PHONE_FIXED, details.phone_fixe)
    set_optional(attributes, schema.PHONE_MOBILE, details.phone_mobile)
    return {
        "email": details.email,
        "firstName": details.first_name,
        "lastName": details.last_name,
        "enabled": True,
        "attributes": attributes,
        "groups": list(paths),
    }


# --- adherents (groups) -------------------------------------------------------------------------


def adherent(groupement: str, group: Mapping[str, Any]) -> Adherent:
    """The adherent of ``groupement`` that this child group (read with its attributes) is."""
    attributes: Mapping[str, list[str]] = group.get("attributes") or {}
    principals = {
        name.removeprefix(schema.PRINCIPAL_PREFIX): values[0]
        for name, values in attributes.items()
        if name.startswith(schema.PRINCIPAL_PREFIX) and values
    }
    return Adherent(
        group_id=str(group["id"]),
        siren=str(group["name"]),
        name=(attributes.get(schema.COMPANY_NAME) or [""])[0],
        groupement=groupement,
        lots=tuple(attributes.get(schema.LOTS) or ()),
        principals=principals,
    )


def adherent_groups(groups: Iterable[Mapping[str, Any]]) -> dict[str, Adherent]:
    """SIREN → adherent, among groups read with their path and attributes: only the adherent
    groups `/<groupement>/<SIREN>` (not the coordinators' markers `/coordonnateurs/<code>`)."""
    found: dict[str, Adherent] = {}
    for group in groups:
        parts = str(group.get("path") or "").split("/")
        if (
            len(parts) == 3
            and parts[1] != schema.COORDINATORS_GROUP
            and SIREN_PATTERN.fullmatch(parts[2])
        ):
            found[parts[2]] = adherent(parts[1], group)
    return found


def new_adherent(siren: str, name: str, lots: Iterable[str]) -> dict[str, Any]:
    """The representation creating an adherent group."""
    return {"name": siren, "attributes": {schema.COMPANY_NAME: [name], schema.LOTS: list(lots)}}


def lots_edit(lots: Iterable[str]) -> GroupEdit:
    def add(attributes: dict[str, list[str]]) -> bool:
        missing = [lot for lot in lots if lot not in attributes.get(schema.LOTS, [])]
        attributes[schema.LOTS] = [*attributes.get(schema.LOTS, []), *missing]
        return bool(missing)

    return add


# --- user attributes ----------------------------------------------------------------------------


def add_value(attributes: dict[str, list[str]], name: str, scope: Scope) -> None:
    values = attributes.setdefault(name, [])
    if str(scope) not in values:
        values.append(str(scope))


def remove_value(attributes: dict[str, list[str]], name: str, scope: Scope) -> None:
    attributes[name] = [value for value in attributes.get(name, []) if value != str(scope)]


def set_optional(attributes: dict[str, list[str]], name: str, value: str | None) -> None:
    attributes[name] = [value] if value else []


def requests(attributes: Mapping[str, list[str]]) -> list[CollectionRequest]:
    return [
        request
        for value in attributes.get(schema.REQUESTS, [])
        if (request := CollectionRequest.from_json(value))
    ]


def store_requests(attributes: dict[str, list[str]], records: list[CollectionRequest]) -> None:
    """Write the records and what is derived from them: the SIREN/lot index searched by the
    member space, and the marker searched by support's queue."""
    attributes[schema.REQUESTS] = [request.to_json() for request in records]
    attributes[schema.REQUESTS_ON] = sorted({str(request.scope) for request in records})
    pending = any(request.status is RequestStatus.PENDING for request in records)
    attributes[schema.PENDING_REQUEST] = [PENDING] if pending else []


def attributes_edit(edit: Callable[[dict[str, list[str]]], None]) -> UserEdit:
    """A user edit that changes attributes only."""
    return lambda representation: edit(representation.setdefault("attributes", {}))


def functions_edit(functions: Mapping[Function, Iterable[Scope]]) -> UserEdit:
    """Give each function on each of its scopes."""

    def grant(attributes: dict[str, list[str]]) -> None:
        for function, scopes in functions.items():
            for scope in scopes:
                add_value(attributes, function.value, scope)

    return attributes_edit(grant)


def contact_edit(
    scope: Scope, functions: Mapping[Function, bool], details: ContactDetails | None
) -> UserEdit:
    """Add or remove each listed function on ``scope`` and, when given, names and phones."""

    def edit(representation: dict[str, Any]) -> None:
        attributes = representation.setdefault("attributes", {})
        for function, keep in functions.items():
            if keep:
                add_value(attributes, function.value, scope)
            else:
                remove_value(attributes, function.value, scope)
        if details is not None:
            representation["firstName"] = details.first_name
            representation["lastName"] = details.last_name
            set_optional(attributes, schema.PHONE_FIXED, details.phone_fixe)
            set_optional(attributes, schema.PHONE_MOBILE, details.phone_mobile)

    return edit


def decision_edit(
    request_id: str, accept: bool, reason: str, change: Change
) -> tuple[UserEdit, list[CollectionRequest]]:
    """The edit deciding a pending request, and the list where it leaves the decided request."""
    decided: list[CollectionRequest] = []

    def edit(representation: dict[str, Any]) -> None:
        decided.clear()  # the edit is redone after a concurrent change
        attributes = representation.setdefault("attributes", {})
        records = []
        for request in requests(attributes):
            if request.id == request_id and request.status is RequestStatus.PENDING:
                status = RequestStatus.ACCEPTED if accept else RequestStatus.REFUSED
                request = request.decided(status, change.by, reason)
                decided.append(request)
                if accept:
                    add_value(attributes, Function.COLLECTE.value, request.scope)
            records.append(request)
        if not decided:
            raise UnknownRequest(request_id)
        store_requests(attributes, records)

    return edit, decided


def invitation_edit(sent_at: datetime, expires_at: datetime) -> UserEdit:
    """Record the invitation just sent: the extension refuses any link issued before it."""

    def record(attributes: dict[str, list[str]]) -> None:
        attributes[schema.INVITATION_SENT] = [str(int(sent_at.timestamp()))]
        attributes[schema.INVITATION_EXPIRES] = [str(int(expires_at.timestamp()))]

    return attributes_edit(record)
