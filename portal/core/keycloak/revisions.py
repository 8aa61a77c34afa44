"""No lost updates: every read-modify-write of a person or an adherent is conditional.

Keycloak's Admin API has no ETag. Our extension gives every user and group an attribute
``revision`` that changes with each write through the Admin API (``RevisionListener``); a user
update that sends back another revision than the stored one is refused by the user profile
(400 on the field ``revision``, ``RevisionValidator``), and a group is written through
``PUT /admin/realms/<realm>/collecte-revisions/groups/<id>``, which refuses a stale revision
or a new principal in place of another with 409 (``RevisionedGroupResource``). The check and
the write are one step in Keycloak (the record's row is locked).

The gateway then reads the record again and applies its change to what it finds (both changes
are kept), up to :data:`WRITE_ATTEMPTS` times, after which it gives up with
:class:`ConcurrentChange` (a French page; nothing was written). An undo after a failure puts
back only what this writer changed and nobody changed since (:func:`undo`).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from keycloak.exceptions import KeycloakError

from portal.core.errors import ConcurrentChange as ConcurrentChange  # re-exported
from portal.core.errors import KeycloakRefused
from portal.core.keycloak import schema

#: A refusal as python-keycloak raises it or as the adapter translates it (same two fields).
Refusal = KeycloakError | KeycloakRefused

ATTRIBUTE = schema.REVISION
#: Reads and writes of one change before giving up: a second writer is rare; losing this many
#: times in a row (even against a handful of writers at once, the slowest loses a few times)
#: means someone is busy with the record and the user should look at it again.
WRITE_ATTEMPTS = 8
#: Top-level fields of a user that an undo may put back (the rest are attributes).
_USER_FIELDS = ("firstName", "lastName", "email", "enabled")


def back_off(attempt: int) -> None:
    """Before attempt `attempt` (0 first) again after a conflict: a random pause, so that
    writers who collided do not collide again in step."""
    if attempt:
        time.sleep(random.uniform(0, 0.05 * attempt))  # noqa: S311 - jitter, not a secret


def stale_user_write(error: Refusal) -> bool:
    """The user profile refused the write because the user changed since it was read."""
    if error.response_code != 400:
        return False
    return any(problem.get("field") == ATTRIBUTE for problem in _problems(error))


def stale_group_write(error: Refusal) -> bool:
    """The conditional group write found another revision (or a principal already set)."""
    return error.response_code == 409


def undo(current: dict[str, Any], before: dict[str, Any], written: dict[str, Any]) -> None:
    """Change `current` (the record as it is now) back to `before` wherever our write changed
    it (`before` → `written`) and nobody changed it since: a value another writer set after us
    stays. `before` and `written` are user representations."""
    for field in _USER_FIELDS:
        if field in before and _undoable(before.get(field), written.get(field), current.get(field)):
            current[field] = before[field]
    now = current.setdefault("attributes", {})
    old, ours = before.get("attributes") or {}, written.get("attributes") or {}
    for name in {*old, *ours} - {ATTRIBUTE}:
        if not _undoable(old.get(name) or [], ours.get(name) or [], now.get(name) or []):
            continue
        if old.get(name):
            now[name] = list(old[name])
        else:  # left out of the write: Keycloak removes it, as it was before
            now.pop(name, None)


def _undoable(before: Any, written: Any, current: Any) -> bool:
    """Our write changed it, and it is still what we wrote."""
    return bool(before != written and current == written)


def _problems(error: Refusal) -> list[dict[str, Any]]:
    try:
        body = json.loads(error.response_body or b"{}")
    except (TypeError, ValueError):
        return []
    if not isinstance(body, dict):
        return []
    return list(body.get("errors") or [body])


class Compensations:
    """The one « put back the previous state » of the adapter's multi-step writes: each step
    that wrote something pushes how to undo it; if a later step fails, the undos run, last
    first, and the failure goes on. Use as ``with Compensations() as undo: …; undo.push(…)``."""

    def __init__(self) -> None:
        self._undos: list[Callable[[], object]] = []

    def push(self, undo: Callable[[], object]) -> None:
        self._undos.append(undo)

    def __enter__(self) -> Compensations:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None and issubclass(kind, Exception):
            for undo in reversed(self._undos):
                undo()
