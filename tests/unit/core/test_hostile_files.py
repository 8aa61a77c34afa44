"""Issue 10, hostile import files: each is checked or refused in French within 2 seconds and a
bounded amount of memory, by the reading shared by the portal and the command line
(:func:`portal.core.services.bulk.read_table`). Every file is built here from zipfile and XML
strings."""

from __future__ import annotations

import io
import signal
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from portal.core import safe_files
from portal.core.services.bulk import FileError, check, read_table
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, SIREN_A
from tests.helpers.pages import html
from tests.helpers.settings import ADMIN_REALM_URL
from tests.helpers.xlsx_parts import (
    MACRO_MAIN,
    REL,
    content_types,
    good_rows,
    inline_row,
    parts,
    sheet,
    xlsx,
)

SECONDS = 2.0
MEMORY = 100 * 1024 * 1024
LINE = f"x@exemple.fr;Dupont;Marie;;{SIREN_A};Commune A;1;collecte"
CSV_HEADER = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"


class TooSlow(Exception):
    pass


@pytest.fixture
def deadline() -> Iterator[Callable[[float], None]]:
    """Interrupts the test when reading takes longer than allowed (today's code would run for
    minutes): a timer signal raises in the main thread, so the test fails instead of hanging."""

    def expire(*_: Any) -> None:
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, expire)

    def arm(seconds: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, seconds)

    yield arm
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def read_and_check(data: bytes, name: str) -> None:
    check(read_table(data, name))


def measured(
    deadline: Callable[[float], None], data: bytes, name: str
) -> tuple[FileError | None, float, int]:
    """Reads and checks the file twice: once timed (at most SECONDS), once under tracemalloc
    (slower, so with a larger deadline) for the peak of memory allocated."""
    outcome: FileError | None = None
    deadline(SECONDS)
    start = time.perf_counter()
    try:
        read_and_check(data, name)
    except FileError as error:
        outcome = error
    except TooSlow:
        pytest.fail(f"{name} : plus de {SECONDS} s")
    seconds = time.perf_counter() - start
    deadline(0)
    tracemalloc.start()
    deadline(10 * SECONDS)
    try:
        read_and_check(data, name)
    except FileError:
        pass
    finally:
        deadline(0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, seconds, peak


def refused(deadline: Callable[[float], None], data: bytes, name: str = "membres.xlsx") -> str:
    error, seconds, peak = measured(deadline, data, name)
    assert error is not None, f"{name} accepted"
    assert seconds < SECONDS
    assert peak < MEMORY, f"{peak / 1e6:.0f} MB"
    return str(error)


# --- XLSX ---------------------------------------------------------------------------------------


def test_a_sane_workbook_written_by_hand_is_read() -> None:
    table = read_table(xlsx(parts(sheet(good_rows(LINE)))), "membres.xlsx")
    assert table[1] == (2, LINE.split(";"))


def test_a_dimension_lie_is_ignored(deadline: Callable[[float], None]) -> None:
    """1.5 KB whose <dimension> claims the whole grid (16,384 columns × 1,048,576 rows): the
    claim is ignored and the two lines read as they are (today: 16,384 cells a line)."""
    data = xlsx(parts(sheet(good_rows(LINE), dimension="A1:XFD1048576")))
    assert len(data) < 2048
    error, seconds, peak = measured(deadline, data, "membres.xlsx")
    assert error is None and seconds < SECONDS and peak < MEMORY
    assert read_table(data, "membres.xlsx")[1] == (2, LINE.split(";"))


def test_the_dimension_bomb_is_refused_in_time(deadline: Callable[[float], None]) -> None:
    """The same lie with an empty last row of the grid: reading pads every missing row up to
    it (today: 16,384 empty cells for each of a million rows, the worker killed)."""
    rows = good_rows(LINE) + '<row r="1048576"/>'
    data = xlsx(parts(sheet(rows, dimension="A1:XFD1048576")))
    assert len(data) < 2048
    assert refused(deadline, data) == safe_files.TOO_MANY_SHEET_ROWS


def test_rows_and_cells_far_away_are_bounded(deadline: Callable[[float], None]) -> None:
    """No dimension lie, but a cell in the last column of the last row of the grid."""
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    message = refused(deadline, xlsx(parts(sheet(good_rows(LINE) + far))))
    assert message == safe_files.TOO_MANY_SHEET_ROWS


def test_a_zip_bomb_is_refused_from_the_zip_directory(deadline: Callable[[float], None]) -> None:
    """A small file whose sheet inflates to 300 MB: refused from the sizes the zip declares,
    before anything is inflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in parts("").items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, value)
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            head, tail = sheet(good_rows(LINE)).split("</sheetData>")
            part.write(f"{head}</sheetData><!--".encode())
            for _ in range(300):
                part.write(b" " * 1024 * 1024)
            part.write(f"-->{tail}".encode())
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024
    assert refused(deadline, data) == safe_files.TOO_BIG_INFLATED


def test_a_zip_that_lies_about_its_sizes_is_not_inflated_beyond_them(
    deadline: Callable[[float], None],
) -> None:
    """The central directory says 2 KB for a part that inflates to 50 MB: reading stops at the
    declared size and the file is refused."""
    big = sheet(good_rows(LINE) + "<!--" + " " * (50 * 1024 * 1024) + "-->")
    data = bytearray(xlsx(parts(big)))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    # Patch the uncompressed size in the local header (offset 22) and the central directory.
    local = info.header_offset
    data[local + 22 : local + 26] = (2048).to_bytes(4, "little")
    central = bytes(data).rfind(b"PK\x01\x02", 0, len(data))
    while central != -1:
        name_length = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + name_length] == b"xl/worksheets/sheet1.xml":
            data[central + 24 : central + 28] = (2048).to_bytes(4, "little")
            break
        central = bytes(data).rfind(b"PK\x01\x02", 0, central)
    assert refused(deadline, bytes(data)) == safe_files.UNREADABLE


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"xl__vbaProject.bin": b"\xd0\xcf\x11\xe0macro"}, id="vbaProject"),
        pytest.param({"[Content_Types].xml": content_types(MACRO_MAIN)}, id="xlsm-content-type"),
        pytest.param(
            {
                "xl__externalLinks__externalLink1.xml": (
                    '<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats'
                    '.org/spreadsheetml/2006/main"><externalBook/></externalLink>'
                )
            },
            id="externalLink-part",
        ),
        pytest.param(
            {
                "xl__worksheets___rels__sheet1.xml.rels": (
                    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats'
                    '.org/package/2006/relationships"><Relationship Id="rId9" Type="'
                    f'{REL}/externalLinkPath" Target="file:///C:/secret.xlsx" '
                    'TargetMode="External"/></Relationships>'
                )
            },
            id="externalLink-relationship",
        ),
    ],
)
def test_macros_and_external_links_are_refused(
    deadline: Callable[[float], None], extra: dict[str, str | bytes]
) -> None:
    message = refused(deadline, xlsx(parts(sheet(good_rows(LINE)), **extra)))
    assert message == safe_files.ACTIVE_CONTENT


SHARED_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>'
)
LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)


@pytest.mark.parametrize(
    "package",
    [
        pytest.param(
            parts(sheet(good_rows(LINE).replace("Commune A", "&d;"), prolog=LAUGHS)),
            id="laughs-in-sheet",
        ),
        pytest.param(
            parts(
                sheet(
                    good_rows(LINE).replace("Commune A", "&x;"),
                    prolog='<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
                )
            ),
            id="external-entity-in-sheet",
        ),
        pytest.param(
            parts(
                sheet(
                    inline_row(1, "E-mail", "Nom", "Prénom", "Téléphone", "SIREN")
                    + inline_row(2, "Raison sociale", "Lot(s)", "Fonction")
                    + '<row r="3"><c r="A3" t="s"><v>0</v></c></row>'
                ),
                **{
                    "[Content_Types].xml": content_types(extra=SHARED_STRINGS_TYPE),
                    "xl/sharedStrings.xml": (
                        f'<?xml version="1.0"?>{LAUGHS}<sst xmlns="http://schemas.openxmlformats'
                        '.org/spreadsheetml/2006/main"><si><t>&d;</t></si></sst>'
                    ),
                },
            ),
            id="laughs-in-sharedStrings",
        ),
    ],
)
def test_xml_entities_are_refused_never_expanded(
    deadline: Callable[[float], None], package: dict[str, str | bytes]
) -> None:
    assert refused(deadline, xlsx(package)) == safe_files.XML_DECLARATIONS


def test_a_too_long_cell_is_refused(deadline: Callable[[float], None]) -> None:
    rows = good_rows(LINE.replace("Commune A", "A" * 200_000))
    message = refused(deadline, xlsx(parts(sheet(rows))))
    assert message == safe_files.cell_too_long(2)


def test_a_row_of_many_cells_is_bounded(deadline: Callable[[float], None]) -> None:
    """Hundreds of thousands of cells in a few rows: refused on the number of cells the zip's
    XML holds, counted before any parsing."""
    cells = "".join(f'<c r="A{n}"><v>1</v></c>' for n in range(2, 3)) + '<c r="B2"/>' * 600_000
    message = refused(deadline, xlsx(parts(sheet(good_rows(LINE) + f'<row r="3">{cells}</row>'))))
    assert message == safe_files.TOO_MANY_CELLS


def test_not_a_zip_and_an_encrypted_office_file_are_unreadable(
    deadline: Callable[[float], None],
) -> None:
    assert refused(deadline, b"PK\x03\x04 broken") == safe_files.UNREADABLE
    assert refused(deadline, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600) == (
        safe_files.UNREADABLE
    )


# --- CSV ----------------------------------------------------------------------------------------


def csv_file(*lines: str) -> bytes:
    return ("\n".join([CSV_HEADER, *lines]) + "\n").encode()


def test_a_csv_field_over_128_kb_is_refused_in_french(deadline: Callable[[float], None]) -> None:
    data = csv_file(LINE.replace("Commune A", "A" * 200_000))
    assert refused(deadline, data, "membres.csv") == safe_files.cell_too_long(2)


def test_a_csv_field_just_over_the_cell_limit_is_refused(
    deadline: Callable[[float], None],
) -> None:
    data = csv_file(LINE.replace("Commune A", "A" * (safe_files.MAX_CELL + 1)))
    assert refused(deadline, data, "membres.csv") == safe_files.cell_too_long(2)


def test_a_csv_with_a_nul_byte_is_refused(deadline: Callable[[float], None]) -> None:
    data = csv_file(LINE.replace("Commune A", "Commune\0A"))
    assert refused(deadline, data, "membres.csv") == safe_files.NUL_BYTE


def test_a_csv_of_five_megabytes_of_separators_is_bounded(
    deadline: Callable[[float], None],
) -> None:
    data = csv_file(LINE + ";" * (5 * 1024 * 1024 - 200))
    error, seconds, peak = measured(deadline, data, "membres.csv")
    assert seconds < SECONDS and peak < MEMORY
    assert error is None or str(error) == safe_files.TOO_MANY_COLUMNS


@pytest.mark.parametrize("name", ["membres.csv", "membres.xlsx"])
def test_a_file_over_5_mb_is_refused_by_the_reading_itself(name: str) -> None:
    """The form refuses it first; the command line shares only this reading."""
    with pytest.raises(FileError, match="ne doit pas dépasser 5 Mo"):
        read_table(b"x" * (safe_files.MAX_FILE_BYTES + 1), name)


# --- through the import page ---------------------------------------------------------------------


@pytest.mark.usefixtures("own_temporary_folder")
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "membres.csv",
            csv_file(LINE.replace("Commune A", "A" * 200_000)),
            safe_files.cell_too_long(2),
        ),
        ("membres.csv", csv_file(LINE.replace("Commune A", "C\0A")), safe_files.NUL_BYTE),
        (
            "membres.xlsx",
            xlsx(parts(sheet(good_rows(LINE)), xl__vbaProject=b"macro")),
            safe_files.ACTIVE_CONTENT,
        ),
    ],
)
def test_the_import_page_shows_the_french_message_next_to_the_field(
    client: FlaskClient,
    support: AdminApi,
    csrf_token: Callable[[], str],
    name: str,
    data: bytes,
    message: str,
) -> None:
    support.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    response = client.post(
        f"/coordination/{GROUPEMENT}/import",
        data={"csrf_token": csrf_token(), "fichier": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in html(response).text()
    assert support.writes() == []
