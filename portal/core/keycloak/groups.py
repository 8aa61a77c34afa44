"""Groups: groupements ``/<code>``, adherents ``/<groupement>/<SIREN>``, coordinators' markers
``/coordonnateurs/<code>``, memberships, and the one conditional write of a group's attributes
(lots, ``principal.<lot>``) through the extension's ``collecte-revisions`` endpoint.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import quote

from portal.core.domain import Adherent, Person, Scope
from portal.core.errors import (
    ConcurrentChange,
    KeycloakRefused,
    UnknownAdherent,
    UnknownGroupement,
)
from portal.core.keycloak import mapping, revisions, schema
from portal.core.keycloak.connection import PAGE, Connection, keycloak_errors, refused
from portal.core.keycloak.mapping import GroupEdit, from_millis

#: Adherent group id → (member, password chosen at, last sign-in at), for the follow-up.
Activations = dict[str, list[tuple[Person, datetime | None, datetime | None]]]

#: Adherents per call of the follow-up's read (≈ 10 people each: a call stays well under the
#: Admin API timeout on a loaded Keycloak), and how many such calls at once.
ACTIVATION_PAGE = 20
ACTIVATION_READS = 4

#: Page size of the brief listings of an import (groupements, children, members).
LISTING_PAGE = 1000
#: Without the extension's reads, an import looks for the people or SIRENs of a file one search
#: each when they are at most this many per page of the listing that would find them all.
SEARCHES_PER_PAGE = 25
#: The extension's « which groupement holds these SIRENs? », and SIRENs per call.
BY_SIREN_PATH = "collecte-pages/adherents/by-siren"
BY_SIREN_PAGE = 1000


class Groups:
    def __init__(self, connection: Connection) -> None:
        self._kc = connection
        self._admin = connection.admin

    # --- groupements ----------------------------------------------------------------------------

    def groupement(self, code: str) -> dict[str, Any] | None:
        """The top-level group ``/<code>`` (the one group-by-path lookup), None if none."""
        try:
            found: dict[str, Any] = self._kc.get_json(f"group-by-path/{quote(code, safe='')}")
        except KeycloakRefused as error:
            if refused(error, 404):
                return None
            raise
        return found

    def groupement_id(self, code: str) -> str:
        """Id of the top-level group ``/<code>``."""
        group = self.groupement(code)
        if group is None:
            raise UnknownGroupement(code)
        return str(group["id"])

    def groupements(self, page: int = PAGE) -> list[dict[str, Any]]:
        """Every top-level group but the coordinators' markers (brief, with their number of
        children when Keycloak gives it)."""
        return [
            group
            for group in self._kc.pages("groups", page, briefRepresentation="true")
            if group.get("name") != schema.COORDINATORS_GROUP
        ]

    def adherents_of(self, groupement: str, group_id: str | None = None) -> dict[str, Adherent]:
        """SIREN → adherent, for every adherent group of the groupement, with their attributes
        (one listing, page by page)."""
        children = self.adherent_representations(group_id or self.groupement_id(groupement))
        return {siren: mapping.adherent(groupement, child) for siren, child in children.items()}

    def adherent_representations(self, group_id: str) -> dict[str, dict[str, Any]]:
        """SIREN → the adherent group as Keycloak gives it, attributes included, for the
        children of the groupement ``group_id`` (one listing, page by page): what
        :meth:`write` may start from instead of reading each group again."""
        # Pages of connection.PAGE: the follow-up and the import read it alike.
        children = self._kc.pages(f"groups/{group_id}/children", briefRepresentation="false")
        return {str(child["name"]): child for child in children}

    def child_names(self, group_id: str) -> Iterator[str]:
        """Names of a group's children (brief listing)."""
        for child in self._kc.pages(
            f"groups/{group_id}/children", LISTING_PAGE, briefRepresentation="true"
        ):
            yield str(child["name"])

    def create_adherent(
        self, groupement_id: str, siren: str, name: str, lots: Any
    ) -> dict[str, Any] | None:
        """Create the adherent group; Keycloak's answer, the group as stored (after its
        listeners), or None if the answer holds no group."""
        created = self._kc.post_json(
            f"groups/{groupement_id}/children", mapping.new_adherent(siren, name, lots)
        )
        return created if isinstance(created, dict) and created.get("id") else None

    # --- adherents ------------------------------------------------------------------------------

    def adherent(self, siren: str) -> Adherent | None:
        """The adherent group ``/<groupement>/<siren>``, wherever its groupement is."""
        # One call: Keycloak 26 answers each groupement with its matching children, attributes
        # included (python-keycloak's get_groups read each groupement's children again). The
        # children are read only when an answer leaves them out.
        query = {"search": siren, "exact": "true", "briefRepresentation": "false"}
        for groupement in self._kc.get_json("groups", **query, first=0, max=PAGE):
            children = groupement.get("subGroups") or []
            if not children and groupement.get("subGroupCount"):
                path = f"groups/{groupement['id']}/children"
                children = self._kc.get_json(path, **query, first=0, max=PAGE)
            for group in children:
                if group.get("name") == siren:
                    return mapping.adherent(str(groupement["name"]), group)
        return None

    def other_holders(self, groupement: str, sirens: Collection[str]) -> dict[str, str]:
        """SIREN → code of the groupement it is an adherent of, for those of ``sirens`` that are
        one of a groupement other than ``groupement`` (one adherent group per SIREN in the
        realm). The extension's ``collecte-pages/adherents/by-siren`` read, ``BY_SIREN_PAGE`` per
        call; without it (an image that predates it), one exact group search per SIREN when they
        are few, otherwise one listing of the other groupements (with their number of adherents)
        and their adherents page by page."""
        wanted = sorted(set(sirens))
        found: dict[str, str] = {}
        try:
            for start in range(0, len(wanted), BY_SIREN_PAGE):
                held = self._kc.post_json(BY_SIREN_PATH, wanted[start : start + BY_SIREN_PAGE])
                found.update({str(siren): str(code) for siren, code in held.items()})
        except KeycloakRefused as error:
            if not refused(error, 404):
                raise
            found = self._holders_without_extension(groupement, set(wanted))
        # The coordinators' markers /coordonnateurs/<code> are no adherents.
        return {
            siren: code
            for siren, code in found.items()
            if code not in (groupement, schema.COORDINATORS_GROUP)
        }

    def _holders_without_extension(self, groupement: str, sirens: set[str]) -> dict[str, str]:
        others = [g for g in self.groupements(LISTING_PAGE) if g.get("name") != groupement]
        # Keycloak 23+ counts each group's children; without the count, assume one page.
        pages = sum(int(g.get("subGroupCount") or 0) // LISTING_PAGE + 1 for g in others)
        if len(sirens) <= SEARCHES_PER_PAGE * pages:
            adherents = (self.adherent(siren) for siren in sirens)
            return {a.siren: a.groupement for a in adherents if a is not None}
        found: dict[str, str] = {}
        for group in others:
            if group.get("subGroupCount") != 0:
                for name in self.child_names(str(group["id"])):
                    if name in sirens:
                        found[name] = str(group["name"])
        return found

    def require_adherent(self, siren: str) -> Adherent:
        adherent = self.adherent(siren)
        if adherent is None:
            raise UnknownAdherent(siren)
        return adherent

    def members(self, adherent: Adherent) -> list[Person]:
        """Everyone in the adherent's group, with their attributes: one call per page."""
        path = f"groups/{adherent.group_id}/members"
        return [
            Person.from_representation(user)
            for user in self._kc.pages(path, briefRepresentation="false")
        ]

    def activations(self, code: str, adherents: int) -> Activations | None:
        """Adherent group id → each member of the groupement ``code`` (which has ``adherents``
        adherent groups) with when they chose their password and when they signed in last: the
        extension's ``collecte-activations`` read (keycloak/providers, ActivationsResource), one
        call per ``ACTIVATION_PAGE`` adherents, a few at a time (follow-up only). None when this
        Keycloak does not answer that read (an image that predates the endpoint): the caller
        then reads person by person."""
        group = self.groupement(code)
        if group is None:
            return {}
        path = f"collecte-activations/groups/{group['id']}"

        def page(first: int) -> dict[str, list[dict[str, Any]]]:
            found: dict[str, list[dict[str, Any]]] = self._kc.get_json(
                path, first=first, max=ACTIVATION_PAGE
            )
            return found

        try:
            with ThreadPoolExecutor(max_workers=ACTIVATION_READS) as pool:
                pages = list(pool.map(page, range(0, max(adherents, 1), ACTIVATION_PAGE)))
        except KeycloakRefused as error:
            if refused(error, 404):
                return None
            raise
        return {
            str(child): [
                (
                    Person.from_representation(entry["user"]),
                    from_millis(entry["passwordCreated"]) if entry.get("passwordCreated") else None,
                    from_millis(entry["lastLogin"]) if entry.get("lastLogin") else None,
                )
                for entry in members
            ]
            for found in pages
            for child, members in found.items()
        }

    def member_ids(self, group_id: str) -> frozenset[str]:
        """Ids of the group's members (brief pages)."""
        path = f"groups/{group_id}/members"
        pages = self._kc.pages(path, LISTING_PAGE, briefRepresentation="true")
        return frozenset(str(user["id"]) for user in pages)

    # --- a person's groups ----------------------------------------------------------------------

    def person_adherents(self, person_id: str) -> dict[str, Adherent]:
        """SIREN → adherent group the person is a member of, with its attributes (lots,
        principals): what :mod:`portal.core.authority` needs besides the person's own
        attributes. One call (paged)."""
        groups = self._kc.pages(f"users/{person_id}/groups", briefRepresentation="false")
        return mapping.adherent_groups(groups)

    def coordinated_groupements(self, person_id: str) -> frozenset[str]:
        """Codes of the groupements this person coordinates: their ``/coordonnateurs/<code>``
        marker groups (the same groups the admin-console permissions are granted to)."""
        with keycloak_errors():
            groups = self._admin.get_user_groups(person_id, brief_representation=True)
        prefix = schema.coordinators_path("")
        return frozenset(
            str(group["path"]).removeprefix(prefix)
            for group in groups
            if str(group.get("path", "")).startswith(prefix)
        )

    def join(self, person_id: str, group_id: str) -> None:
        """Joining a group one is already in changes nothing — also when another writer joins
        the person at the same instant: Keycloak then answers 409 (the membership row exists)."""
        try:
            with keycloak_errors():
                self._admin.group_user_add(person_id, group_id)
        except KeycloakRefused as error:
            if not refused(error, 409):
                raise

    def leave(self, person_id: str, group_id: str) -> None:
        """Leaving a group one is not in is a 404 in Keycloak: nothing to do."""
        try:
            with keycloak_errors():
                self._admin.group_user_remove(person_id, group_id)
        except KeycloakRefused as error:
            if not refused(error, 404):
                raise

    # --- principals: written once per SIREN/lot -------------------------------------------------

    def claim_principals(
        self,
        group_id: str,
        principals: Mapping[str, str],
        current: Mapping[str, Any] | None = None,
    ) -> frozenset[str]:
        """``principal.<lot>`` for each lot of ``principals`` (lot → person id) that has none
        yet; returns the lots set. Keycloak refuses another person in place of a principal.
        ``current``: the group as just read, if the caller has it (see :meth:`write`)."""
        claimed: set[str] = set()

        def claim(attributes: dict[str, list[str]]) -> bool:
            claimed.clear()  # the edit is redone after a concurrent change
            for lot, person_id in principals.items():
                if not attributes.get(schema.principal_attribute(lot)):
                    attributes[schema.principal_attribute(lot)] = [person_id]
                    claimed.add(lot)
            return bool(claimed)

        return frozenset(claimed) if self.write(group_id, claim, current) else frozenset()

    def release_principal(self, scope: Scope, person_id: str) -> None:
        """Undo a claim of a grant that failed (only if still this person)."""
        key = schema.principal_attribute(scope.lot)

        def drop(attributes: dict[str, list[str]]) -> bool:
            return attributes.get(key) == [person_id] and bool(attributes.pop(key))

        self.write(self.require_adherent(scope.siren).group_id, drop)

    def write(
        self, group_id: str, edit: GroupEdit, current: Mapping[str, Any] | None = None
    ) -> bool:
        """Read the group (or start from ``current``, the group as the caller just read it),
        let ``edit`` change its attributes (False: nothing to write) and write it back
        conditionally (:mod:`portal.core.keycloak.revisions`); on a concurrent change, read it
        again and redo. Returns whether a write was made. Starting from ``current`` is safe:
        the write carries the revision read, and Keycloak refuses it if the group changed."""
        for attempt in range(revisions.WRITE_ATTEMPTS):
            revisions.back_off(attempt)
            if current is None:
                with keycloak_errors():
                    current = self._admin.get_group(group_id)
            group = copy.deepcopy(dict(current))
            current = None
            if not edit(group.setdefault("attributes", {})):
                return False
            try:
                self._kc.put_json(f"collecte-revisions/groups/{group_id}", group)
            except KeycloakRefused as error:
                if revisions.stale_group_write(error):
                    continue
                raise
            return True
        raise ConcurrentChange(group_id)
