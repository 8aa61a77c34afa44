"""Issue 10: the import's dry-run report tells a coordinator nothing about the people or the
adherents of other groupements beyond « déjà adhérent d’un autre groupement »."""

from __future__ import annotations

from portal.core.services.bulk import Existing, Kind, dry_run

from .test_bulk import SIREN_A, SIREN_B, adherent, checked, person

LINE = f"x@exemple.fr;Nouveau;Nom;;{SIREN_A};Commune A;1;collecte"


def test_a_siren_of_another_groupement_is_refused_without_naming_it() -> None:
    existing = Existing("GRP-X", {}, {}, elsewhere={SIREN_B: "GRP-SECRET"})
    result = dry_run(checked(f"x@exemple.fr;A;B;;{SIREN_B};Syndicat B;1;collecte"), existing)
    assert result.plan is None
    (error,) = result.errors
    assert error.message == (
        f"Le SIREN {SIREN_B} est déjà adhérent d’un autre groupement : contactez le support."
    )
    assert "GRP-SECRET" not in error.message


def test_a_person_known_only_elsewhere_reads_as_a_new_person() -> None:
    """Someone holding functions in another groupement only: the report and the summary say
    exactly what they say for somebody unknown (no « existe déjà », no function held)."""
    stranger = person(
        "s1",
        "x@exemple.fr",
        technique=[f"{SIREN_B}/1"],
        facturation=[f"{SIREN_B}/2"],
    )
    here = {SIREN_A: adherent(SIREN_A, "1")}
    known = dry_run(checked(LINE), Existing("GRP-X", here, {"x@exemple.fr": stranger}))
    unknown = dry_run(checked(LINE), Existing("GRP-X", here, {}))
    assert known.report == unknown.report == []
    assert known.plan is not None and unknown.plan is not None
    assert known.plan.newcomers == unknown.plan.newcomers == 1
    assert known.plan.completed == unknown.plan.completed == 0
    # what is written still completes the existing account rather than creating one
    (update,) = known.plan.updates
    assert update.person_id == "s1" and not known.plan.people


def test_a_person_of_the_groupement_is_told_only_what_the_groupement_holds() -> None:
    """A member of the groupement who is also a billing contact of another groupement: the
    notice names the function held here, never the one held elsewhere."""
    member = person(
        "m1",
        "x@exemple.fr",
        technique=[f"{SIREN_A}/1"],
        facturation=[f"{SIREN_B}/1"],
    )
    existing = Existing(
        "GRP-X",
        {SIREN_A: adherent(SIREN_A, "1")},
        {"x@exemple.fr": member},
        members={SIREN_A: frozenset({"m1"})},
    )
    result = dry_run(checked(LINE), existing)
    (notice,) = result.report
    assert notice.kind is Kind.NOTICE
    assert "technique" in notice.message
    assert "facturation" not in notice.message and SIREN_B not in notice.message
    assert result.plan is not None
    assert (result.plan.newcomers, result.plan.completed) == (0, 1)
