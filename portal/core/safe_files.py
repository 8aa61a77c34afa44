"""Reading an uploaded member file (CSV or XLSX) within fixed bounds of time and memory.

A file of at most :data:`MAX_FILE_BYTES` is read or refused with a French message
(:class:`portal.core.services.bulk.FileError`) before any of it is trusted:

- CSV: no NUL byte, UTF-8, at most :data:`MAX_CELL` characters per cell and
  :data:`MAX_COLUMNS` cells per line (``csv``'s own 128 KB field limit used to end in a 500).
- XLSX: the zip's directory is checked first (number of parts, sizes once inflated, no macros
  nor external links), then every XML part is inflated at most to the size the directory
  declares and scanned by expat with any DOCTYPE refused (no entity is ever expanded), its cells
  counted; only then does openpyxl read the first sheet, with the sheet's own ``<dimension>``
  claim ignored (it used to pad billions of empty cells) and at most :data:`MAX_COLUMNS`
  columns and :data:`MAX_SHEET_ROWS` rows read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

from portal.core.errors import Refused as Refused  # re-exported: importers keep working

MAX_FILE_BYTES = 5 * 1024 * 1024  # the import form's limit, also applied to the command line
MAX_CELL = 1_000  # characters in one cell (an e-mail is at most 254, a raison sociale less)
MAX_COLUMNS = 30  # columns read per line; the format has 8
MAX_SEPARATORS = 4 * MAX_COLUMNS  # separators on one line of a CSV file, quoted ones included
MAX_SHEET_ROWS = 100_000  # rows of the sheet read, empty ones included (20,000 members at most)
MAX_PARTS = 200  # parts (files) in the XLSX zip; Excel writes about a dozen
MAX_INFLATED_BYTES = 20 * 1024 * 1024  # all parts once inflated (20,000 lines: about 11 MB)
MAX_CELLS = 400_000  # cells and shared strings in the XML (20,000 lines × 20 columns)
CHUNK = 64 * 1024
COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)

UNREADABLE = "Le fichier XLSX ne peut pas être lu."
TOO_BIG = "Le fichier ne doit pas dépasser 5 Mo."
TOO_BIG_INFLATED = (
    "Le fichier XLSX est trop volumineux une fois décompressé (20 Mo au plus) : "
    "enregistrez seulement la feuille des membres, sans images ni mise en forme."
)
TOO_MANY_CELLS = (
    f"Le fichier XLSX contient trop de cellules ({MAX_CELLS} au plus) : enregistrez seulement "
    "les colonnes et les lignes des membres."
)
TOO_MANY_SHEET_ROWS = (
    f"La feuille dépasse {MAX_SHEET_ROWS} lignes (lignes vides comprises) : supprimez les "
    "lignes inutiles ou découpez le fichier."
)
TOO_MANY_COLUMNS = f"Une ligne du fichier dépasse {MAX_COLUMNS} colonnes : vérifiez le séparateur."
ACTIVE_CONTENT = (
    "Le classeur contient des macros ou des liaisons vers d’autres fichiers, refusées par "
    "sécurité : enregistrez-le au format « Classeur Excel (.xlsx) » sans macros ni liaisons "
    "externes, puis déposez-le de nouveau."
)
XML_DECLARATIONS = (
    "Le fichier XLSX contient des déclarations XML (DOCTYPE, entités) refusées par sécurité : "
    "enregistrez-le de nouveau depuis votre tableur."
)
NUL_BYTE = (
    "Le fichier CSV contient un caractère nul : ce n’est pas un fichier texte. Enregistrez-le "
    "au format « CSV UTF-8 »."
)
NOT_UTF8 = "Le fichier CSV doit être enregistré en UTF-8."
MALFORMED_CSV = "Le fichier CSV est mal formé à la ligne {line} : vérifiez les guillemets."


def cell_too_long(line: int) -> str:
    return f"Ligne {line} : une cellule dépasse {MAX_CELL} caractères."


# --- CSV ----------------------------------------------------------------------------------------


def csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of a CSV file, ``;`` or ``,`` separated."""
    if len(data) > MAX_FILE_BYTES:
        raise Refused(TOO_BIG)
    if b"\0" in data:
        raise Refused(NUL_BYTE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(NOT_UTF8) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    # Counted before csv builds a list of every field of a line (5 MB of separators would make
    # five million of them): a few separators inside quotes are allowed for.
    if any(line.count(delimiter) > MAX_SEPARATORS for line in text.split("\n")):
        raise Refused(TOO_MANY_COLUMNS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # csv's own limit (128 KB per field) is far above ours: report it as ours.
            if "field larger" in str(error):
                raise Refused(cell_too_long(reader.line_num)) from None
            raise Refused(MALFORMED_CSV.format(line=reader.line_num)) from None
        yield reader.line_num, _bounded(reader.line_num, cells)


def _bounded(line: int, cells: list[Any]) -> list[str]:
    """The cells as text, refused when one is too long; those beyond MAX_COLUMNS must be empty
    (a spreadsheet often writes trailing separators)."""
    if len(cells) > MAX_COLUMNS:
        if any(cell not in (None, "") for cell in cells[MAX_COLUMNS:]):
            raise Refused(TOO_MANY_COLUMNS)
        cells = cells[:MAX_COLUMNS]
    texts = [_text(cell) for cell in cells]
    if any(len(text) > MAX_CELL for text in texts):
        raise Refused(cell_too_long(line))
    return texts


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --- XLSX ---------------------------------------------------------------------------------------

#: Parts that hold macros, ActiveX or links to other files (refused, never opened).
ACTIVE_PARTS = ("vbaproject", "externallink", "macrosheet", "activex", "dialogsheet")
#: Relationship and content types that bring them in.
ACTIVE_TYPES = ("macroenabled", "vbaproject", "externallink", "activex", "oleobject", "macrosheet")


def xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of the first sheet of an XLSX file, once :func:`inspect_xlsx`
    has accepted the package."""
    if len(data) > MAX_FILE_BYTES:
        raise Refused(TOO_BIG)
    inspect_xlsx(data)
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # openpyxl raises many kinds (zip, xml, key errors) for a bad file
        raise Refused(UNREADABLE) from None
    try:
        sheet: Any = workbook.worksheets[0]
        # The sheet's <dimension> is a claim of the file, not a fact: openpyxl pads every row
        # and column it announces (A1:XFD1048576 = 17 billion cells). Without it, only the
        # cells written are read, and at most MAX_COLUMNS of each row.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        for number, values in enumerate(rows, start=1):
            if number > MAX_SHEET_ROWS:
                raise Refused(TOO_MANY_SHEET_ROWS)
            if not any(values):  # most of a padded sheet: no work for it
                continue
            cells = list(values)
            while cells[-1] in (None, ""):  # openpyxl pads each row up to max_col
                cells.pop()
            yield number, _bounded(number, cells)
    except Refused:
        raise
    except Exception:  # a damaged sheet, found while reading it
        raise Refused(UNREADABLE) from None
    finally:
        workbook.close()


def inspect_xlsx(data: bytes) -> None:
    """Refuse a package that is not a plain workbook, in bounded time and memory: from the zip
    directory first, then each XML part inflated (at most as large as declared) and parsed by
    expat with DOCTYPE refused, its cells counted."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise Refused(UNREADABLE) from None
    if len(infos) > MAX_PARTS:
        raise Refused(UNREADABLE)
    if sum(info.file_size for info in infos) > MAX_INFLATED_BYTES:
        raise Refused(TOO_BIG_INFLATED)
    for info in infos:
        name = info.filename.lower()
        if any(marker in name for marker in ACTIVE_PARTS):
            raise Refused(ACTIVE_CONTENT)
        if info.flag_bits & 0x1 or info.compress_type not in COMPRESSIONS:
            raise Refused(UNREADABLE)  # encrypted, or a compression openpyxl does not expect
    cells = 0
    for info in infos:
        name = info.filename.lower()
        if name.endswith((".xml", ".rels")):
            cells += _scan(archive, info)
            if cells > MAX_CELLS:
                raise Refused(TOO_MANY_CELLS)


def _refuse_external(*_: Any) -> int:
    raise Refused(XML_DECLARATIONS)


def _scan(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Parse one XML part with expat, chunk by chunk; returns how many cells (``<c>``) and
    shared strings (``<si>``) it holds. Types are only looked at in the small parts that carry
    them (content types, relationships), so the sheet is parsed without a Python call per
    element."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def forbidden(*_: Any) -> None:
        raise Refused(XML_DECLARATIONS)

    # Any DTD is refused as soon as it starts: no entity is declared, hence none expanded.
    parser.StartDoctypeDeclHandler = forbidden
    parser.EntityDeclHandler = forbidden
    parser.ExternalEntityRefHandler = _refuse_external
    name = info.filename.lower()
    if name.endswith(".rels") or name == "[content_types].xml":

        def element(_: str, attributes: dict[str, str]) -> None:
            kind = (attributes.get("ContentType", "") + attributes.get("Type", "")).lower()
            if any(marker in kind for marker in ACTIVE_TYPES):
                raise Refused(ACTIVE_CONTENT)

        parser.StartElementHandler = element
    cells, total, tail = 0, 0, b""
    try:
        with archive.open(info) as part:
            while chunk := part.read(CHUNK):
                total += len(chunk)
                if total > info.file_size:
                    raise Refused(UNREADABLE)  # more than the directory declared
                window = tail + chunk
                cells += window.count(b"<c ") + window.count(b"<c>") + window.count(b"<si>")
                cells -= tail.count(b"<c ") + tail.count(b"<c>") + tail.count(b"<si>")
                tail = chunk[-3:]
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except Refused:
        raise
    except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise Refused(UNREADABLE) from None
    return cells
