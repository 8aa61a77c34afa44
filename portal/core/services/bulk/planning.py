"""The plan of a bulk import: what the checked rows change given what Keycloak holds
(:class:`Existing`), its dry run, and the outcome the adapter reports once written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from portal.core.authority import acts_for
from portal.core.domain import Adherent, Function, Person, Scope
from portal.core.errors import FileError as FileError  # re-exported: importers keep working
from portal.core.keycloak import schema
from portal.core.services.bulk.reading import Checked, Kind, ReportLine


@dataclass(frozen=True)
class Existing:
    """What Keycloak already holds for the people and adherents of a file."""

    groupement: str
    adherents: Mapping[str, Adherent]  # SIREN → adherent of this groupement
    people: Mapping[str, Person]  # e-mail (lower case) → person
    # SIREN of the file → the other groupement it is an adherent of (one per SIREN in the realm)
    elsewhere: Mapping[str, str] = field(default_factory=dict)
    # SIREN → ids of the members of its adherent group (for the people of the file)
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class NewAdherent:
    siren: str
    name: str
    lots: tuple[str, ...]


@dataclass
class NewPerson:
    email: str
    first_name: str
    last_name: str
    phone_fixe: str | None
    phone_mobile: str | None
    functions: dict[Function, list[Scope]]
    sirens: list[str]
    lines: list[int]

    def attributes(self) -> dict[str, list[str]]:
        attributes = {f.value: [str(s) for s in scopes] for f, scopes in self.functions.items()}
        if self.phone_fixe:
            attributes[schema.PHONE_FIXED] = [self.phone_fixe]
        if self.phone_mobile:
            attributes[schema.PHONE_MOBILE] = [self.phone_mobile]
        return attributes


@dataclass
class PersonUpdate:
    person_id: str
    email: str
    functions: dict[Function, list[Scope]]  # to add
    sirens: list[str]  # adherent groups to join
    lines: list[int]
    # False for a person known only in other groupements: the report shows them as a newcomer.
    known_here: bool = True


@dataclass
class Plan:
    groupement: str
    adherents: list[NewAdherent] = field(default_factory=list)
    lots: dict[str, list[str]] = field(default_factory=dict)  # existing SIREN → lots to add
    people: list[NewPerson] = field(default_factory=list)
    updates: list[PersonUpdate] = field(default_factory=list)
    principals: dict[Scope, str] = field(default_factory=dict)  # scope → e-mail
    invitations: dict[str, int] = field(default_factory=dict)  # e-mail → first line
    ids: dict[str, str] = field(default_factory=dict)  # e-mail → id of the existing people
    unchanged: int = 0  # lines with nothing to do

    @property
    def newcomers(self) -> int:
        """People new to the groupement: created, or known only elsewhere (issue 10: the report
        never tells a coordinator that such a person already exists)."""
        return len(self.people) + sum(not u.known_here for u in self.updates)

    @property
    def completed(self) -> int:
        """People of the groupement who gain a function or a membership."""
        return sum(u.known_here for u in self.updates)

    @property
    def empty(self) -> bool:
        return not (
            self.adherents
            or self.lots
            or self.people
            or self.updates
            or self.principals
            or self.invitations
        )


def plan(checked: Checked, existing: Existing) -> tuple[Plan, list[ReportLine]]:
    """What to write so that Keycloak holds every line of the file; nothing for what it already
    holds (a second run plans nothing). Returns the plan and the notices (and errors found
    against what exists: a new SIREN without raison sociale, a SIREN of another groupement)."""
    result = Plan(existing.groupement)
    report: list[ReportLine] = []
    new_adherents: dict[str, NewAdherent] = {}
    lots_known = {siren: set(a.lots) for siren, a in existing.adherents.items()}
    new_people: dict[str, NewPerson] = {}
    updates: dict[str, PersonUpdate] = {}
    collection: dict[str, int] = {}  # e-mails that hold `collecte` after the import → line
    for row in checked.rows:
        other = existing.elsewhere.get(row.siren)
        if other is not None:
            # Creating /<groupement>/<SIREN> would give the SIREN two adherent groups, and
            # gateway.adherent(siren) would then pick either: moving an adherent is support's job.
            report.append(
                ReportLine(
                    row.line,
                    Kind.ERROR,
                    # Never the other groupement's name: a coordinator learns nothing about
                    # other groupements (issue 10); support sees it in the console.
                    f"Le SIREN {row.siren} est déjà adhérent d’un autre groupement : contactez "
                    "le support.",
                    "SIREN",
                )
            )
            continue
        adherent = existing.adherents.get(row.siren)
        if adherent is None and row.siren not in new_adherents:
            if not row.raison_sociale:
                report.append(
                    ReportLine(
                        row.line,
                        Kind.ERROR,
                        f"Adhérent {row.siren} inconnu dans le groupement : indiquez sa raison "
                        "sociale pour le créer.",
                        "raison sociale",
                    )
                )
                continue
            new_adherents[row.siren] = NewAdherent(row.siren, row.raison_sociale, ())
            lots_known[row.siren] = set()
        for lot in row.lots:
            if lot not in lots_known[row.siren]:
                lots_known[row.siren].add(lot)
                if row.siren in new_adherents:
                    a = new_adherents[row.siren]
                    new_adherents[row.siren] = NewAdherent(a.siren, a.name, (*a.lots, lot))
                else:
                    result.lots.setdefault(row.siren, []).append(lot)
        person = existing.people.get(row.email)
        if person is None:
            new = new_people.get(row.email)
            if new is None:
                new = new_people[row.email] = NewPerson(
                    row.email,
                    row.first_name,
                    row.last_name,
                    row.phone_fixe,
                    row.phone_mobile,
                    {},
                    [],
                    [],
                )
            new.phone_fixe = new.phone_fixe or row.phone_fixe
            new.phone_mobile = new.phone_mobile or row.phone_mobile
            _add_scopes(new.functions, row.function, row.scopes)
            if row.siren not in new.sirens:
                new.sirens.append(row.siren)
            new.lines.append(row.line)
        else:
            result.ids[row.email] = person.id
            # What the report may say of this person: only what the groupement itself holds.
            # Known only elsewhere, they read exactly like a new person (no notice).
            here = _sirens_here(person, existing)
            # The authority rule (portal.core.authority): the value, the membership of the
            # adherent's
            # group, the lot among the adherent's lots (those this plan adds included).
            joined = person.id in existing.members.get(row.siren, frozenset())
            group = (
                {row.siren: replace(adherent, lots=tuple(lots_known[row.siren]))}
                if adherent is not None and joined
                else {}
            )
            if not [s for s in row.scopes if not acts_for(person, row.function, s, group)]:
                missing: list[Scope] = []
            else:
                missing = [s for s in row.scopes if not person.holds(row.function, s)]
            label = row.function.label.lower()
            if not missing and not joined:
                update = updates.setdefault(
                    row.email, PersonUpdate(person.id, row.email, {}, [], [], bool(here))
                )
                if row.siren not in update.sirens:
                    update.sirens.append(row.siren)
                update.lines.append(row.line)
                if here:
                    report.append(
                        ReportLine(
                            row.line,
                            Kind.NOTICE,
                            f"{row.email} est déjà {label} pour {_scopes_text(row.scopes)} mais "
                            f"n’est pas membre du groupe de l’adhérent {row.siren} : la personne y "
                            "est ajoutée.",
                        )
                    )
            elif not missing:
                result.unchanged += 1
                report.append(
                    ReportLine(
                        row.line,
                        Kind.NOTICE,
                        f"{row.email} est déjà {label} pour {_scopes_text(row.scopes)} : "
                        "rien à faire.",
                    )
                )
            else:
                update = updates.setdefault(
                    row.email, PersonUpdate(person.id, row.email, {}, [], [], bool(here))
                )
                _add_scopes(update.functions, row.function, missing)
                if not joined and row.siren not in update.sirens:
                    update.sirens.append(row.siren)
                update.lines.append(row.line)
                others = [
                    f.label.lower()
                    for f in Function
                    if f is not row.function and any(s.siren in here for s in person.scopes(f))
                ]
                held = f" (déjà {', '.join(others)})" if others else " (déjà présent)"
                if here:
                    report.append(
                        ReportLine(
                            row.line,
                            Kind.NOTICE,
                            f"{row.email} existe déjà{held} : fonction « {row.function.value} » "
                            f"ajoutée pour {_scopes_text(missing)}, sans recréer la personne.",
                        )
                    )
        if row.function is Function.COLLECTE:
            collection.setdefault(row.email, row.line)
            for scope in row.scopes:
                adherent_principal = adherent.principal_id(scope.lot) if adherent else None
                if not adherent_principal and scope not in result.principals:
                    result.principals[scope] = row.email
    result.adherents = list(new_adherents.values())
    result.people = list(new_people.values())
    result.updates = list(updates.values())
    for email, line in collection.items():
        person = existing.people.get(email)
        if person is None or (person.invitation is None and person.terms_accepted_at is None):
            result.invitations[email] = line
    return result, report


def _sirens_here(person: Person, existing: Existing) -> set[str]:
    """The groupement's SIRENs where ``person`` holds a function or is a member: empty for a
    person known only in other groupements."""
    return {
        siren
        for siren in existing.adherents
        if siren in person.all_sirens or person.id in existing.members.get(siren, frozenset())
    }


def _add_scopes(
    functions: dict[Function, list[Scope]], function: Function, scopes: Iterable[Scope]
) -> None:
    values = functions.setdefault(function, [])
    values.extend(s for s in scopes if s not in values)


def _scopes_text(scopes: Iterable[Scope]) -> str:
    return ", ".join(str(s) for s in scopes)


# --- the whole dry run --------------------------------------------------------------------------


@dataclass(frozen=True)
class DryRun:
    checked: Checked
    plan: Plan | None  # None when the file has errors
    report: list[ReportLine]

    @property
    def errors(self) -> list[ReportLine]:
        return [line for line in self.report if line.kind is Kind.ERROR]


def dry_run(checked: Checked, existing: Existing) -> DryRun:
    planned, notices = plan(checked, existing)
    report = sorted([*checked.report, *notices], key=lambda line: (line.line, line.kind))
    has_errors = any(line.kind is Kind.ERROR for line in report)
    return DryRun(checked, None if has_errors else planned, report)


def import_steps(plan: Plan, invite: bool = True) -> int:
    """How many steps :meth:`KeycloakGateway.apply_import` reports, for a progress bar."""
    steps = len(plan.adherents) + len(plan.people) + len(plan.updates)
    return steps + (len(plan.invitations) if invite else 0)


@dataclass
class Outcome:
    """What applying a plan did."""

    created: int = 0
    updated: int = 0
    adherents_created: int = 0
    principals: int = 0
    invitations_sent: int = 0
    unchanged: int = 0
    failures: list[ReportLine] = field(default_factory=list)
