"""One call per page: what a portal page needs about a person, read fresh by our extension's
``GET collecte-pages/people/<id>`` (``PageReadResource``, reserved to holders of
realm-management ``view-users``): the person, their groups (adherents with lots and principals),
their effective realm roles and, for a SIREN/lot page, the members of that adherent group with
their attributes — only when the person is one of them.

Each page asks once; the gateway keeps the answer for the following pages until anything changes
in the realm (:mod:`portal.core.keycloak.read_cache`), so a revoked function, group, role or a
disabled account is still seen by the very next request.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.domain import Adherent, Person
from portal.core.errors import KeycloakRefused
from portal.core.keycloak import mapping
from portal.core.keycloak.connection import Connection, refused

PATH = "collecte-pages/people/{}"


@dataclass(frozen=True)
class PersonPage:
    """A person as Keycloak says right now, with what the authority rule needs."""

    person: Person
    #: SIREN → the adherent groups the person is a member of.
    adherents: dict[str, Adherent]
    #: Effective realm roles (composites and groups' roles included).
    realm_roles: frozenset[str]
    #: The members of the adherent asked for, with their attributes; None when not asked for or
    #: when the person is not a member of it.
    members: list[Person] | None


class PageReads:
    def __init__(self, connection: Connection) -> None:
        self._kc = connection

    def person_page(self, person_id: str, siren: str | None = None) -> PersonPage | None:
        """The person's page in one call; None for an unknown person."""
        params = {"siren": siren} if siren else {}
        try:
            page = self._kc.get_json(PATH.format(person_id), **params)
        except KeycloakRefused as error:
            if refused(error, 404):
                return None
            raise
        members = page.get("members")
        return PersonPage(
            person=Person.from_representation(page["user"]),
            adherents=mapping.adherent_groups(page.get("groups") or []),
            realm_roles=frozenset(str(role) for role in page.get("realmRoles") or []),
            members=None
            if members is None
            else [Person.from_representation(member) for member in members],
        )
