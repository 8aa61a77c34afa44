"""Bulk import, pure part: reading CSV/XLSX, checking each line, planning against what exists."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook

from portal.core import validation
from portal.core.domain import Adherent, Function, Invitation, Person, Scope
from portal.core.services.bulk import (
    Existing,
    FileError,
    Kind,
    check,
    dry_run,
    import_steps,
    plan,
    read_table,
)

HEADER = "E-mail;Nom;Prénom;Téléphone;SIREN;Raison sociale;Lot(s);Fonction"
SIREN_A, SIREN_B, SIREN_C = "213500010", "253500011", "100000009"


def csv_bytes(*lines: str, bom: bool = False, header: str = HEADER) -> bytes:
    text = "\n".join([header, *lines]) + "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def checked(*lines: str, **kwargs: bool):  # type: ignore[no-untyped-def]
    return check(read_table(csv_bytes(*lines, **kwargs), "membres.csv"))


def nothing_exists(groupement: str = "GRP-X") -> Existing:
    return Existing(groupement, {}, {})


def messages(report: list, line: int) -> list[str]:  # type: ignore[type-arg]
    return [r.message for r in report if r.line == line]


# --- reading -------------------------------------------------------------------------------------


def test_csv_with_bom_semicolons_and_any_header_spelling() -> None:
    data = csv_bytes(
        f"marie@exemple.fr;Dupont;Marie;02 99 00 00 01;{SIREN_A};Commune A;1, 2;Collecte",
        bom=True,
        header="EMAIL;nom;PRENOM;telephone;Siren;raison_sociale;lots;FONCTION",
    )
    result = check(read_table(data, "liste.CSV"))
    assert result.report == []
    (row,) = result.rows
    assert (row.line, row.email, row.first_name, row.last_name) == (
        2,
        "marie@exemple.fr",
        "Marie",
        "Dupont",
    )
    assert (row.phone_fixe, row.phone_mobile) == ("+33299000001", None)
    assert (row.siren, row.lots, row.function) == (SIREN_A, ("1", "2"), Function.COLLECTE)


def test_csv_with_commas_and_a_mobile_phone() -> None:
    header = "e-mail,nom,prénom,téléphone,siren,raison sociale,lot(s),fonction"
    data = csv_bytes(
        f'jean@exemple.fr,Martin,Jean,06 12 34 56 78,{SIREN_A},Commune A,"1;2 3",technique',
        header=header,
    )
    (row,) = check(read_table(data, "l.csv")).rows
    assert (row.phone_fixe, row.phone_mobile) == (None, "+33612345678")
    assert row.lots == ("1", "2", "3")
    assert row.function is Function.TECHNIQUE


def test_xlsx_numbers_are_read_as_text() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["Email", "Nom", "Prénom", "Téléphone", "SIREN", "Raison sociale", "Lots", "Fonction"]
    )
    sheet.append(
        ["a@exemple.fr", "Durand", "Anne", 612345678, int(SIREN_A), "Commune A", 1, "facturation"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    (row,) = check(read_table(buffer.getvalue(), "membres.xlsx")).rows
    assert (row.siren, row.lots, row.phone_mobile) == (SIREN_A, ("1",), "+33612345678")
    assert row.function is Function.FACTURATION


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.csv", "Le fichier est vide."),
        ("é;".encode("latin-1"), "a.csv", "UTF-8"),
        (b"not a zip", "a.xlsx", "ne peut pas être lu"),
        (b"x", "a.pdf", "CSV (.csv) ou Excel (.xlsx)"),
    ],
)
def test_unreadable_files(data: bytes, name: str, message: str) -> None:
    with pytest.raises(FileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_table(data, name)


def test_missing_columns_are_named() -> None:
    with pytest.raises(FileError, match=r"Colonnes manquantes.*SIREN, lot\(s\), fonction"):
        check(read_table(b"email;nom;prenom\nx@y.fr;A;B\n", "a.csv"))


# --- checking ------------------------------------------------------------------------------------


def test_a_file_full_of_mistakes_gets_one_french_message_per_problem() -> None:
    result = checked(
        f"ok@exemple.fr;Dupont;Marie;0299000001;{SIREN_A};Commune A;1;collecte",  # 2
        f"pas-une-adresse;Dupont;Marie;;{SIREN_A};Commune A;1;collecte",  # 3
        "b@exemple.fr;Dupont;Marie;;213500011;Commune A;1;collecte",  # 4
        f"c@exemple.fr;Dupont;Marie;01 02;{SIREN_A};Commune A;1;collecte",  # 5
        f"d@exemple.fr;Dupont;Marie;;{SIREN_A};Commune A;1;directeur",  # 6
        f"ok@exemple.fr;Dupont;Marie;0299000001;{SIREN_A};Commune A;1;collecte",  # 7
        f"ok@exemple.fr;Durand;Marie;;{SIREN_A};Commune A;2;technique",  # 8
        f"e@exemple.fr;;M4rie;;{SIREN_A};Commune A;lot 1!;collecte",  # 9
        f"f@exemple.fr;Petit;Luc;;{SIREN_A};Autre nom;1;technique",  # 10
        f"g@exemple.fr;Petit;Luc;+44 20 7946 0000;{SIREN_A};;1;technique",  # 11
    )
    report = result.report
    assert all(r.kind is Kind.ERROR for r in report)
    assert messages(report, 2) == []
    assert messages(report, 3) == [validation.EMAIL_INVALID]
    assert messages(report, 4) == [validation.SIREN_INVALID]
    assert messages(report, 5) == [
        "Ce numéro de téléphone n’est pas valide (exemple : 01 23 45 67 89)."
    ]
    assert messages(report, 6) == [
        "Fonction inconnue (directeur) : indiquez collecte, technique ou facturation."
    ]
    assert messages(report, 7) == ["Ligne en double : identique à la ligne 2."]
    assert messages(report, 8)[0].startswith(
        "Même adresse e-mail qu’à la ligne 2 avec un autre nom"
    )
    assert messages(report, 9) == [
        "Indiquez le nom.",
        "Le prénom ne peut contenir que des lettres, des espaces, des apostrophes, des traits "
        "d’union et des points.",
        "1! : " + validation.LOT_INVALID,
    ]
    assert messages(report, 10)[0].startswith("Raison sociale différente de celle de la ligne 2")
    assert messages(report, 11) == [validation.PHONE_FOREIGN]
    assert [r.line for r in result.rows] == [2]
    assert {r.column for r in report if r.line == 3} == {"e-mail"}


def test_errors_mean_no_plan() -> None:
    result = dry_run(checked("x@exemple.fr;A;B;;213500011;C;1;collecte"), nothing_exists())
    assert result.plan is None
    assert [r.line for r in result.errors] == [2]


# --- planning ------------------------------------------------------------------------------------


def person(pid: str, email: str, **functions: list[str]) -> Person:
    return Person(
        id=pid,
        email=email,
        first_name="P",
        last_name="Q",
        functions={
            Function(name): frozenset(s for v in values if (s := Scope.parse(v)))
            for name, values in functions.items()
        },
    )


def adherent(siren: str, *lots: str, **principals: str) -> Adherent:
    return Adherent(f"g-{siren}", siren, "Commune", "GRP-X", lots, principals)


def test_plan_for_a_new_groupement() -> None:
    result = checked(
        f"marie@exemple.fr;Dupont;Marie;0299000001;{SIREN_A};Commune A;1 2;collecte",
        f"marie@exemple.fr;Dupont;Marie;0612345678;{SIREN_B};Syndicat B;1;technique",
        f"paul@exemple.fr;Paul;Jean;;{SIREN_A};Commune A;1;collecte",
        f"luc@exemple.fr;Petit;Luc;;{SIREN_A};;2;facturation",
    )
    planned, notices = plan(result, nothing_exists())
    assert notices == []
    assert [(a.siren, a.name, a.lots) for a in planned.adherents] == [
        (SIREN_A, "Commune A", ("1", "2")),
        (SIREN_B, "Syndicat B", ("1",)),
    ]
    marie = planned.people[0]
    assert marie.attributes() == {
        "collecte": [f"{SIREN_A}/1", f"{SIREN_A}/2"],
        "technique": [f"{SIREN_B}/1"],
        "telephoneFixe": ["+33299000001"],
        "telephoneMobile": ["+33612345678"],
    }
    assert marie.sirens == [SIREN_A, SIREN_B]
    assert marie.lines == [2, 3]
    # the first collection contact of each SIREN/lot becomes principal
    assert planned.principals == {
        Scope(SIREN_A, "1"): "marie@exemple.fr",
        Scope(SIREN_A, "2"): "marie@exemple.fr",
    }
    # collection contacts only are invited, once each
    assert planned.invitations == {"marie@exemple.fr": 2, "paul@exemple.fr": 4}
    assert planned.updates == []
    assert import_steps(planned) == 2 + 3 + 2
    assert import_steps(planned, invite=False) == 5


def test_plan_against_what_exists() -> None:
    existing = Existing(
        "GRP-X",
        {SIREN_A: adherent(SIREN_A, "1", **{"1": "someone"})},
        {
            "tech@exemple.fr": person("t1", "tech@exemple.fr", technique=[f"{SIREN_A}/1"]),
            "done@exemple.fr": replace_invited(
                person("d1", "done@exemple.fr", collecte=[f"{SIREN_A}/1"])
            ),
        },
        members={SIREN_A: frozenset({"t1", "d1"})},
    )
    result = checked(
        f"tech@exemple.fr;Q;P;;{SIREN_A};;1;collecte",  # 2: technical → also collection
        f"done@exemple.fr;Q;P;;{SIREN_A};;1;collecte",  # 3: already holds it
        f"new@exemple.fr;N;N;;{SIREN_A};;2;collecte",  # 4: lot 2 is new for the adherent
        f"tech@exemple.fr;Q;P;;{SIREN_C};Syndicat C;1;technique",  # 5: new SIREN
    )
    planned, notices = plan(result, existing)
    assert [(n.line, n.kind) for n in notices] == [
        (2, Kind.NOTICE),
        (3, Kind.NOTICE),
        (5, Kind.NOTICE),
    ]
    assert "déjà interlocuteur technique" in notices[0].message
    assert "fonction « collecte » ajoutée" in notices[0].message
    assert notices[1].message.endswith("rien à faire.")
    assert planned.unchanged == 1
    assert [(a.siren, a.lots) for a in planned.adherents] == [(SIREN_C, ("1",))]
    assert planned.lots == {SIREN_A: ["2"]}
    (update,) = planned.updates
    assert update.person_id == "t1"
    assert update.functions == {
        Function.COLLECTE: [Scope(SIREN_A, "1")],
        Function.TECHNIQUE: [Scope(SIREN_C, "1")],
    }
    assert update.sirens == [SIREN_C]
    assert [p.email for p in planned.people] == ["new@exemple.fr"]
    # lot 1 has a principal; lot 2 gets the new person
    assert planned.principals == {Scope(SIREN_A, "2"): "new@exemple.fr"}
    # the invited person is not invited again; the technical contact is (never activated)
    assert planned.invitations == {"tech@exemple.fr": 2, "new@exemple.fr": 4}
    assert planned.ids == {"tech@exemple.fr": "t1", "done@exemple.fr": "d1"}


def test_second_run_plans_nothing() -> None:
    inv = Invitation(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC))
    existing = Existing(
        "GRP-X",
        {SIREN_A: adherent(SIREN_A, "1", **{"1": "m1"})},
        {
            "marie@exemple.fr": Person(
                id="m1",
                email="marie@exemple.fr",
                first_name="Marie",
                last_name="Dupont",
                functions={Function.COLLECTE: frozenset({Scope(SIREN_A, "1")})},
                invitation=inv,
            )
        },
        members={SIREN_A: frozenset({"m1"})},
    )
    result = dry_run(
        checked(f"marie@exemple.fr;Dupont;Marie;;{SIREN_A};Commune A;1;collecte"), existing
    )
    assert result.plan is not None and result.plan.empty
    assert [r.kind for r in result.report] == [Kind.NOTICE]


def test_new_siren_needs_its_raison_sociale() -> None:
    result = dry_run(checked(f"x@exemple.fr;A;B;;{SIREN_A};;1;collecte"), nothing_exists())
    assert result.plan is None
    assert "indiquez sa raison sociale" in result.errors[0].message


def test_a_siren_of_another_groupement_is_an_error_and_nothing_is_planned() -> None:
    existing = Existing("GRP-X", {}, {}, elsewhere={SIREN_B: "GRP-Y"})
    result = dry_run(
        checked(
            f"x@exemple.fr;A;B;;{SIREN_A};Commune A;1;collecte",
            f"x@exemple.fr;A;B;;{SIREN_B};Syndicat B;1 2;technique",
        ),
        existing,
    )
    assert result.plan is None
    (error,) = result.errors
    assert (error.line, error.column) == (3, "SIREN")
    assert error.message == (
        f"Le SIREN {SIREN_B} est déjà adhérent d’un autre groupement : contactez le support."
    )
    # the plan itself leaves that line out entirely: no adherent, lot or function for it
    planned, _ = plan(result.checked, existing)
    assert [a.siren for a in planned.adherents] == [SIREN_A]
    assert SIREN_B not in planned.lots
    (person,) = planned.people
    assert person.sirens == [SIREN_A] and Function.TECHNIQUE not in person.functions


def replace_invited(p: Person) -> Person:
    from dataclasses import replace

    return replace(
        p, invitation=Invitation(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    )


def test_a_value_without_membership_is_not_taken_as_done() -> None:
    """The authority rule: holding `collecte` without being in the adherent's group gives
    nothing, so the import puts the person in the group rather than saying « rien à faire »."""
    existing = Existing(
        "GRP-X",
        {SIREN_A: adherent(SIREN_A, "1", **{"1": "m1"})},
        {"out@exemple.fr": person("o1", "out@exemple.fr", collecte=[f"{SIREN_A}/1"])},
        members={SIREN_A: frozenset({"m1"})},
    )
    planned, [notice] = plan(checked(f"out@exemple.fr;Q;P;;{SIREN_A};;1;collecte"), existing)
    assert "n’est pas membre du groupe de l’adhérent" in notice.message
    [update] = planned.updates
    assert (update.person_id, update.functions, update.sirens) == ("o1", {}, [SIREN_A])
    assert planned.unchanged == 0
