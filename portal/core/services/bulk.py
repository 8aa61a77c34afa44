"""Bulk invitations: a groupement's member list (CSV or XLSX) read, checked and turned into a plan.

Pure: no Flask, no Keycloak. The gateway reads what exists (:class:`Existing`) and applies the
:class:`Plan` (:meth:`portal.core.keycloak.gateway.KeycloakGateway.apply_import`); the command line
(``collecte_kc.bulk_import``) and the portal page (:mod:`portal.web.imports`) show the
:class:`Report`.

Columns (first row, any order, case, accents and spacing ignored): ``email``/``e-mail``, ``nom``,
``prénom``, ``téléphone`` (optional; fixed or mobile, decided by phonenumbers), ``siren``,
``raison sociale``, ``lot(s)`` (several separated by ``,`` ``;`` or spaces), ``fonction``
(collecte, technique or facturation). Each value goes through the same checks as the portal's
forms (:mod:`portal.core.validation`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from portal.core import safe_files
from portal.core.authority import acts_for
from portal.core.domain import Adherent, Function, Person, Scope
from portal.core.errors import FileError as FileError  # re-exported: importers keep working
from portal.core.keycloak import schema
from portal.core.validation import (
    NAME_MAX,
    FieldError,
    check_email,
    check_lot,
    check_phone,
    check_siren,
    clean_text,
    is_person_name,
    name_error,
)

MAX_ROWS = 20_000
EXTENSIONS = (".csv", ".xlsx")

#: Normalized header → column.
HEADERS = {
    "email": "email",
    "mail": "email",
    "adresseemail": "email",
    "nom": "nom",
    "prenom": "prenom",
    "telephone": "telephone",
    "tel": "telephone",
    "siren": "siren",
    "raisonsociale": "raison_sociale",
    "lot": "lots",
    "lots": "lots",
    "fonction": "fonction",
}
REQUIRED_COLUMNS = ("email", "nom", "prenom", "siren", "lots", "fonction")
COLUMN_LABELS = {
    "email": "e-mail",
    "nom": "nom",
    "prenom": "prénom",
    "telephone": "téléphone",
    "siren": "SIREN",
    "raison_sociale": "raison sociale",
    "lots": "lot(s)",
    "fonction": "fonction",
}
FUNCTION_NAMES = {
    "collecte": Function.COLLECTE,
    "technique": Function.TECHNIQUE,
    "facturation": Function.FACTURATION,
}

FILE_EMPTY = "Le fichier est vide."
FILE_NOT_UTF8 = safe_files.NOT_UTF8
FILE_UNREADABLE = safe_files.UNREADABLE
FILE_TYPE = "Le fichier doit être au format CSV (.csv) ou Excel (.xlsx)."
FILE_TOO_MANY = f"Le fichier dépasse {MAX_ROWS} lignes : découpez-le."


class Kind(StrEnum):
    ERROR = "erreur"
    NOTICE = "notice"


@dataclass(frozen=True)
class ReportLine:
    line: int  # line of the file, the header being line 1
    kind: Kind
    message: str
    column: str = ""


@dataclass(frozen=True)
class Row:
    """One valid line of the file, normalized."""

    line: int
    email: str
    last_name: str
    first_name: str
    phone_fixe: str | None
    phone_mobile: str | None
    siren: str
    raison_sociale: str
    lots: tuple[str, ...]
    function: Function

    @property
    def scopes(self) -> tuple[Scope, ...]:
        return tuple(Scope(self.siren, lot) for lot in self.lots)


# --- reading ------------------------------------------------------------------------------------


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]", "", text)


def read_table(data: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """``(line number, cells)`` of every line of a CSV or XLSX file, header included, read within
    the bounds of :mod:`portal.core.safe_files` (or refused with its French message)."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = safe_files.xlsx_rows(data)
    elif name.endswith(".csv"):
        rows = safe_files.csv_rows(data)
    else:
        raise FileError(FILE_TYPE)
    table: list[tuple[int, list[str]]] = []
    try:
        for number, cells in rows:
            if any(cells):
                table.append((number, cells))
                if len(table) > MAX_ROWS + 1:
                    # Stop reading there: the rest of the file cannot change the answer.
                    raise FileError(FILE_TOO_MANY)
    except safe_files.Refused as refused:
        raise FileError(str(refused)) from None
    if not table:
        raise FileError(FILE_EMPTY)
    return table


# --- checking -----------------------------------------------------------------------------------


@dataclass
class Checked:
    """What the file says: its valid rows and its report (errors and, later, notices)."""

    rows: list[Row]
    report: list[ReportLine]

    @property
    def errors(self) -> list[ReportLine]:
        return [line for line in self.report if line.kind is Kind.ERROR]


def check(table: Sequence[tuple[int, list[str]]]) -> Checked:
    """Validate each line with the forms' checks, and the file as a whole (duplicates,
    one e-mail with two names, one SIREN with two raisons sociales)."""
    _, header = table[0]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        column = HEADERS.get(_key(title))
        if column and column not in columns:
            columns[column] = index
    missing = [COLUMN_LABELS[c] for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise FileError(
            "Colonnes manquantes sur la première ligne : " + ", ".join(missing) + ". Colonnes "
            "attendues : e-mail, nom, prénom, téléphone, SIREN, raison sociale, lot(s), fonction."
        )
    rows: list[Row] = []
    report: list[ReportLine] = []
    seen: dict[tuple[str, str, tuple[str, ...], Function], int] = {}
    names: dict[str, tuple[str, str, int]] = {}
    companies: dict[str, tuple[str, int]] = {}
    for number, cells in table[1:]:
        values = {c: cells[i].strip() if i < len(cells) else "" for c, i in columns.items()}
        row, errors = _check_row(number, values)
        report.extend(errors)
        if row is None:
            continue
        key = (row.email, row.siren, row.lots, row.function)
        if key in seen:
            report.append(
                ReportLine(
                    number, Kind.ERROR, f"Ligne en double : identique à la ligne {seen[key]}."
                )
            )
            continue
        seen[key] = number
        known = names.setdefault(row.email, (row.last_name, row.first_name, number))
        if known[:2] != (row.last_name, row.first_name):
            report.append(
                ReportLine(
                    number,
                    Kind.ERROR,
                    f"Même adresse e-mail qu’à la ligne {known[2]} avec un autre nom ou prénom "
                    f"({known[1]} {known[0]}) : une adresse e-mail est une seule personne.",
                    "e-mail",
                )
            )
            continue
        if row.raison_sociale:
            company = companies.setdefault(row.siren, (row.raison_sociale, number))
            if company[0] != row.raison_sociale:
                report.append(
                    ReportLine(
                        number,
                        Kind.ERROR,
                        f"Raison sociale différente de celle de la ligne {company[1]} pour le "
                        f"même SIREN ({company[0]}).",
                        "raison sociale",
                    )
                )
                continue
        rows.append(row)
    return Checked(rows, sorted(report, key=lambda line: line.line))


def _check_row(number: int, values: Mapping[str, str]) -> tuple[Row | None, list[ReportLine]]:
    errors: list[ReportLine] = []

    def error(column: str, message: str) -> None:
        errors.append(ReportLine(number, Kind.ERROR, message, COLUMN_LABELS[column]))

    email = values.get("email", "")
    if not email:
        error("email", "Indiquez l’adresse e-mail.")
    else:
        try:
            email = check_email(email)
        except FieldError as problem:
            error("email", str(problem))
    person_names = []
    for column, what in (("nom", "le nom"), ("prenom", "le prénom")):
        value = clean_text(values.get(column, "")) or ""
        if not value:
            error(column, f"Indiquez {what}.")
        elif len(value) > NAME_MAX:
            subject = what[0].upper() + what[1:]
            error(column, f"{subject} ne doit pas dépasser {NAME_MAX} caractères.")
        elif not is_person_name(value):
            error(column, name_error(what))
        person_names.append(value)
    fixe = mobile = None
    phone = values.get("telephone", "")
    if phone:
        try:
            e164, is_mobile = check_phone(phone)
            fixe, mobile = (None, e164) if is_mobile else (e164, None)
        except FieldError as problem:
            error("telephone", str(problem))
    siren = values.get("siren", "")
    if not siren:
        error("siren", "Indiquez le SIREN.")
    else:
        try:
            siren = check_siren(siren)
        except FieldError as problem:
            error("siren", str(problem))
    lots = tuple(
        dict.fromkeys(part for part in re.split(r"[,;\s]+", values.get("lots", "")) if part)
    )
    if not lots:
        error("lots", "Indiquez au moins un lot.")
    for lot in lots:
        try:
            check_lot(lot)
        except FieldError as problem:
            error("lots", f"{lot} : {problem}")
    function_name = _key(values.get("fonction", ""))
    function = FUNCTION_NAMES.get(function_name)
    if function is None:
        error(
            "fonction",
            "Fonction inconnue"
            + (f" ({values.get('fonction')})" if function_name else "")
            + " : indiquez collecte, technique ou facturation.",
        )
    raison = clean_text(values.get("raison_sociale", "")) or ""
    if errors or function is None:
        return None, errors
    return (
        Row(
            number,
            email,
            person_names[0],
            person_names[1],
            fixe,
            mobile,
            siren,
            raison,
            lots,
            function,
        ),
        errors,
    )


# --- planning -----------------------------------------------------------------------------------


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
