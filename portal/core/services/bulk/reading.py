"""Reading and checking a bulk import file (CSV or XLSX), row by row, in French.

Columns (first row, any order, case, accents and spacing ignored): ``email``/``e-mail``, ``nom``,
``prénom``, ``téléphone`` (optional; fixed or mobile, decided by phonenumbers), ``siren``,
``raison sociale``, ``lot(s)`` (several separated by ``,`` ``;`` or spaces), ``fonction``
(collecte, technique or facturation). Each value goes through the same checks as the portal's
forms (:mod:`portal.core.validation`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from portal.core import safe_files
from portal.core.domain import Function, Scope
from portal.core.errors import FileError as FileError  # re-exported: importers keep working
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

    def required(column: str, missing: str, check: Callable[[str], str]) -> str:
        """The column's value as ``check`` normalises it; else an error (the value as read)."""
        value = values.get(column, "")
        if not value:
            error(column, missing)
            return value
        try:
            return check(value)
        except FieldError as problem:
            error(column, str(problem))
            return value

    email = required("email", "Indiquez l’adresse e-mail.", check_email)
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
    siren = required("siren", "Indiquez le SIREN.", check_siren)
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
