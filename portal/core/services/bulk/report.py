"""The French lines a bulk import's report gives for what failed while writing (the Admin API
side is :mod:`portal.core.keycloak.bulk_writer`)."""

from __future__ import annotations

from portal.core.services.bulk.planning import NewPerson, PersonUpdate
from portal.core.services.bulk.reading import Kind, ReportLine


def not_created(person: NewPerson) -> ReportLine:
    return ReportLine(
        person.lines[0],
        Kind.ERROR,
        f"{person.email} n’a pas été créé (une personne a cette adresse, créée entre-temps) : "
        "relancez l’import.",
    )


def not_updated(update: PersonUpdate, error: Exception | None) -> ReportLine:
    """``error``: Keycloak's refusal; None when the record kept changing meanwhile."""
    if error is None:
        message = (
            f"{update.email} non modifié : sa fiche changeait au même moment, relancez l’import."
        )
    else:
        message = f"{update.email} non modifié : {error}"
    return ReportLine(update.lines[0], Kind.ERROR, message)


def not_invited(line: int, email: str, error: Exception) -> ReportLine:
    return ReportLine(
        line,
        Kind.ERROR,
        f"Invitation de {email} non envoyée ({error}) : elle le sera au prochain import, ou "
        "depuis le diagnostic du support.",
    )
