"""The bulk import's Admin API side (:mod:`portal.core.services.bulk` decides, this writes):
what exists for a file (:meth:`BulkWriter.import_state`) and writing a plan
(:meth:`BulkWriter.apply_import`). The French lines of the report come from the service
(:mod:`portal.core.services.bulk.report`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from portal.core.domain import Adherent, Change, Person
from portal.core.errors import ConcurrentChange, InvitationNotSent, KeycloakRefused
from portal.core.keycloak import mapping, schema
from portal.core.keycloak.connection import Connection, refused
from portal.core.keycloak.groups import LISTING_PAGE, SEARCHES_PER_PAGE, Groups
from portal.core.keycloak.invitations import Invitations
from portal.core.keycloak.realm import Realm
from portal.core.keycloak.users import Users
from portal.core.services.bulk import (
    Existing,
    NewAdherent,
    NewPerson,
    Outcome,
    PersonUpdate,
    Plan,
)
from portal.core.services.bulk import report as bulk

#: People per partial-import call. Keycloak's work per person grows with the size of the call
#: (Hibernate checks every entity of the call's transaction again before each of its queries):
#: measured on H2 (benchmarks/heavy.py), 2,000 people took 1.6–1.7 ms each by 50, 1.9–2.3 by 100,
#: 2.5 by 200; by 25 or 35, within the noise of 50 (4,000 people, measured ad hoc). A call also
#: stays well under the clients' 10 s timeout (python-keycloak retries a POST that timed out).
IMPORT_CHUNK = 50
#: Writes of an import made at once (partial-import calls, adherent groups, principals): each
#: call waits on Keycloak's transaction, then on its notification of the portal (ChangeNotifier),
#: so one at a time leaves a core idle. Measured on two cores (calls of 50): 2,000 people by
#: partial import 1.7 ms each one call at a time, 1.1–1.3 ms two at a time, no better three at a
#: time. The calls write distinct rows (distinct people, distinct groups); principals naming one
#: person go one after the other (:func:`naming_nobody_in_common`).
IMPORT_WRITERS = 2
# Invitations sent at once by a bulk import: enough to overlap Keycloak's work on each e-mail,
# few enough not to flood the mail relay.
INVITATION_WORKERS = 4


class BulkWriter:
    def __init__(
        self,
        connection: Connection,
        users: Users,
        groups: Groups,
        realm: Realm,
        invitations: Invitations,
    ) -> None:
        self._kc = connection
        self._users = users
        self._groups = groups
        self._realm = realm
        self._invitations = invitations
        # Whether this account may use the partial import, once known. Threads may race to
        # learn it: each finds the same answer, and assigning a bool is atomic.
        self._partial_import: bool | None = None

    def import_state(
        self, groupement: str, emails: Collection[str], sirens: Collection[str] = ()
    ) -> Existing:
        """What exists for a file: the groupement's adherents (one listing), the people with
        these e-mails and which of these SIRENs are adherents of another groupement. People are
        found by the extension's read, a thousand addresses per call (measured in
        benchmarks/heavy.py: listing the realm cost ~4 s per 16,000 people, whatever the size
        of the file). Without it: one exact search per e-mail for a short file; for a long one,
        brief pages of every person of the realm (``LISTING_PAGE`` per page, e-mails only) first
        tell who exists, then the same rule chooses between searching those and full pages. Measured
        (benchmarks/bulk_import.py): 1,000 searches take 11 s, when one page of 1,000 full users
        costs about as much as ``SEARCHES_PER_PAGE`` searches, and a brief page a tenth of that
        while the users are cold in Keycloak (0.3 s against 3.6 s). Other groupements' SIRENs:
        see :meth:`Groups.other_holders`."""
        adherents = self._groups.adherents_of(groupement)
        people = self._users.find_by_emails(emails)
        if people is None:  # a Keycloak without the extension's read
            people = self._people_by_listing(emails)
        new = set(sirens) - adherents.keys()
        elsewhere = self._groups.other_holders(groupement, new) if new else {}
        return Existing(
            groupement, adherents, people, elsewhere, self._members_of(adherents, sirens, people)
        )

    def _people_by_listing(self, emails: Collection[str]) -> dict[str, Person]:
        """The people who have these e-mails, without the extension's read (see
        :meth:`import_state`)."""
        wanted = {email.casefold() for email in emails}
        people: dict[str, Person] = {}
        pages = int(self._kc.get_json("users/count")) // LISTING_PAGE + 1
        if len(wanted) > SEARCHES_PER_PAGE * pages:
            # Brief pages first (e-mails only): ten times cheaper than full ones while the
            # users are cold in Keycloak's cache; a first import finds nobody and stops there.
            wanted &= {
                str(user.get("email") or "").casefold() for user in self._all_users(brief=True)
            }
        if len(wanted) <= SEARCHES_PER_PAGE * pages:
            for email in wanted:
                person = self._users.find_by_email(email)
                if person is not None:
                    people[email] = person
        else:
            for user in self._all_users(brief=False):
                email = str(user.get("email") or "").casefold()
                if email in wanted:
                    people[email] = Person.from_representation(user)
        return people

    def _all_users(self, brief: bool) -> Iterator[dict[str, Any]]:
        return self._kc.pages("users", LISTING_PAGE, briefRepresentation=str(brief).lower())

    def _members_of(
        self,
        adherents: Mapping[str, Adherent],
        sirens: Collection[str],
        people: Mapping[str, Person],
    ) -> dict[str, frozenset[str]]:
        """SIREN → ids of the members of its adherent group, for the adherents of the file or of
        the people found (the authority rule needs membership, portal.core.authority): one brief
        listing per adherent, none when the file names nobody known."""
        if not people:
            return {}
        named = set(sirens) | {siren for p in people.values() for siren in p.all_sirens}
        return {
            siren: self._groups.member_ids(adherents[siren].group_id)
            for siren in sorted(named & adherents.keys())
        }

    def apply_import(
        self,
        plan: Plan,
        redirect_uri: str,
        change: Change,
        *,
        invite: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> Outcome:
        """Write a plan (:func:`portal.core.services.bulk.plan`): adherent groups, then new people
        through Keycloak's partial import (``IMPORT_CHUNK`` people per call, existing ones
        skipped), then new functions of existing people (one PUT each), principals (one write
        per adherent, only where none is set), then invitations (one per person). Groups,
        partial imports and principals go ``IMPORT_WRITERS`` at a time. A failure on one person
        is reported on its lines and the run goes on. ``progress`` is called, in this thread,
        with the number of steps done (see :func:`portal.core.services.bulk.import_steps`)."""
        tick = progress or (lambda done: None)
        outcome = Outcome(unchanged=plan.unchanged)
        groupement = self._groups.groupement_id(plan.groupement)
        with ThreadPoolExecutor(IMPORT_WRITERS, thread_name_prefix="import") as writers:
            groups = self._create_adherents(writers, groupement, plan, outcome, tick)
            # The lots and principals below are written from one reading (conditionally, so a
            # group changed since is read again), not one read each: Keycloak's answers to the
            # creations when the plan concerns no adherent that existed before, else one listing
            # with attributes (1,000 groups: 0.7 to 1.4 s, measured on imports of 10,000 rows).
            if not _concerned(plan) <= groups.keys():
                groups = self._groups.adherent_representations(groupement)
            adherents = {s: mapping.adherent(plan.groupement, g) for s, g in groups.items()}
            for siren, lots in plan.lots.items():
                # popped: once written, that reading is stale (the principals' write reads again)
                self._groups.write(
                    adherents[siren].group_id, mapping.lots_edit(lots), groups.pop(siren)
                )
            ids = self._import_people(writers, plan, change, outcome, tick)
            for update in plan.updates:
                try:
                    self._apply_update(update, adherents, change)
                    outcome.updated += 1
                except ConcurrentChange:
                    outcome.failures.append(bulk.not_updated(update, None))
                except KeycloakRefused as error:
                    outcome.failures.append(bulk.not_updated(update, error))
                tick(1)
            self._claim_principals(writers, plan, ids, adherents, groups, outcome)
        if invite:
            self._invite_all(plan, ids, redirect_uri, change, outcome, tick)
        return outcome

    def _create_adherents(
        self,
        writers: ThreadPoolExecutor,
        groupement_id: str,
        plan: Plan,
        outcome: Outcome,
        tick: Callable[[int], None],
    ) -> dict[str, dict[str, Any]]:
        """Creates the plan's adherents; returns SIREN → the group as Keycloak answered, for
        those it answered with."""
        created: dict[str, dict[str, Any]] = {}

        def create(new: NewAdherent) -> dict[str, Any] | None:
            return self._groups.create_adherent(groupement_id, new.siren, new.name, new.lots)

        for new, group in zip(plan.adherents, writers.map(create, plan.adherents), strict=True):
            if group is not None:
                created[new.siren] = group
            outcome.adherents_created += 1
            tick(1)
        return created

    def _import_people(
        self,
        writers: ThreadPoolExecutor,
        plan: Plan,
        change: Change,
        outcome: Outcome,
        tick: Callable[[int], None],
    ) -> dict[str, str]:
        """Creates the plan's new people; returns e-mail → id of everyone the import knows."""
        ids = dict(plan.ids)
        actions = self._realm.default_required_actions() if plan.people else []
        chunks = [
            plan.people[start : start + IMPORT_CHUNK]
            for start in range(0, len(plan.people), IMPORT_CHUNK)
        ]

        def create(chunk: list[NewPerson]) -> dict[str, str]:
            return self._import_users(
                [
                    {
                        "username": person.email,
                        "email": person.email,
                        "firstName": person.first_name,
                        "lastName": person.last_name,
                        "enabled": True,
                        "requiredActions": actions,
                        "attributes": {
                            **person.attributes(),
                            schema.LAST_CHANGE: [change.to_json()],
                        },
                        "groups": [schema.adherent_path(plan.groupement, s) for s in person.sirens],
                    }
                    for person in chunk
                ]
            )

        for chunk, added in zip(chunks, writers.map(create, chunks), strict=True):
            for person in chunk:
                if person.email in added:
                    ids[person.email] = added[person.email]
                    outcome.created += 1
                else:
                    outcome.failures.append(bulk.not_created(person))
            tick(len(chunk))
        return ids

    def _claim_principals(
        self,
        writers: ThreadPoolExecutor,
        plan: Plan,
        ids: Mapping[str, str],
        adherents: Mapping[str, Adherent],
        groups: Mapping[str, Mapping[str, Any]],
        outcome: Outcome,
    ) -> None:
        by_siren: dict[str, dict[str, str]] = {}
        for scope, email in plan.principals.items():
            if email in ids:
                by_siren.setdefault(scope.siren, {})[scope.lot] = ids[email]

        def claim(sirens: list[str]) -> int:
            return sum(
                len(
                    self._groups.claim_principals(adherents[s].group_id, by_siren[s], groups.get(s))
                )
                for s in sirens
            )

        for claimed in writers.map(claim, naming_nobody_in_common(by_siren)):
            outcome.principals += claimed

    def _invite_all(
        self,
        plan: Plan,
        ids: Mapping[str, str],
        redirect_uri: str,
        change: Change,
        outcome: Outcome,
        tick: Callable[[int], None],
    ) -> None:
        """One invitation per person (Keycloak has no bulk send), ``INVITATION_WORKERS`` at a
        time: each waits mostly on Keycloak rendering and handing the e-mail to SMTP (measured in
        benchmarks/bulk_import.py). Results are gathered here, in this thread."""
        wanted = [(email, line) for email, line in plan.invitations.items() if email in ids]
        if not wanted:
            return
        lifespan = self._realm.invitation_lifespan()
        invite = self._invitations.invite
        with ThreadPoolExecutor(INVITATION_WORKERS, thread_name_prefix="invitation") as pool:
            sending = {
                pool.submit(invite, ids[email], redirect_uri, change, lifespan): (email, line)
                for email, line in wanted
            }
            for done in as_completed(sending):
                email, line = sending[done]
                try:
                    done.result()
                    outcome.invitations_sent += 1
                except (InvitationNotSent, KeycloakRefused) as error:
                    outcome.failures.append(bulk.not_invited(line, email, error))
                tick(1)
        outcome.failures.sort(key=lambda failure: failure.line)

    def _import_users(self, users: list[dict[str, Any]]) -> dict[str, str]:
        """Create these people; returns e-mail → id of those created (existing ones are left
        alone). Partial import when this account may use it (it needs more than `manage-users`:
        the bootstrap client of the command line has it, the portal's account does not and
        should not), otherwise one creation per person."""
        if self._partial_import is not False:
            try:
                results = self._kc.post_json(
                    "partialImport", {"ifResourceExists": "SKIP", "users": users}
                )
            except KeycloakRefused as error:
                if not refused(error, 403):
                    raise
                self._partial_import = False
            else:
                self._partial_import = True
                return {
                    str(r["resourceName"]).casefold(): str(r["id"])
                    for r in results.get("results", [])
                    if r.get("resourceType") == "USER" and r.get("action") == "ADDED"
                }
        created: dict[str, str] = {}
        for user in users:
            try:
                created[user["email"]] = self._users.create_raw(user)
            except KeycloakRefused as error:
                if not refused(error, 409):  # someone has this e-mail: reported by the caller
                    raise
        return created

    def _apply_update(
        self, update: PersonUpdate, adherents: Mapping[str, Adherent], change: Change
    ) -> None:
        self._users.update(update.person_id, mapping.functions_edit(update.functions), change)
        for siren in update.sirens:
            self._groups.join(update.person_id, adherents[siren].group_id)


def _concerned(plan: Plan) -> set[str]:
    """The SIRENs whose adherent group the plan writes after creating the new ones."""
    return (
        set(plan.lots)
        | {siren for update in plan.updates for siren in update.sirens}
        | {scope.siren for scope in plan.principals}
    )


def naming_nobody_in_common(principals: Mapping[str, Mapping[str, str]]) -> list[list[str]]:
    """The SIRENs of ``principals`` (SIREN → lot → person id) in sets that name no person in
    common: the sets are written at once, a set's SIRENs one after the other. Keycloak gives
    each new principal a permission of their own (CoordinatorPermissionsListener): two writes
    naming the same new person at once would both create it, and the second would fail on its
    unique name."""
    sets: list[list[str]] = []
    set_of: dict[str, int] = {}  # person id → index in sets
    for siren, lots in principals.items():
        joined = sorted({set_of[person] for person in lots.values() if person in set_of})
        target = joined[0] if joined else len(sets)
        if not joined:
            sets.append([])
        for index in joined[1:]:  # this SIREN links these sets: they become one
            sets[target] += sets[index]
            sets[index] = []
            set_of.update({person: target for person, i in set_of.items() if i == index})
        sets[target].append(siren)
        set_of.update(dict.fromkeys(lots.values(), target))
    return [found for found in sets if found]
