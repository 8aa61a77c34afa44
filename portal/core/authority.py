"""Who acts for which SIREN/lot: the platform's one authority rule, and a member's remit.

Pure (no Flask, no Keycloak): the gateway reads what the rule needs, and every reader — the
member space, the follow-up, the support diagnosis, the bulk import — decides with these
functions, so that they all agree.

**The rule.** A person holds a function (collecte, technique, facturation) for a SIREN/lot only
if all three hold, as Keycloak says right now:

1. the person's attribute of that function has the value ``SIREN/lot``;
2. the person is a member of that adherent's group ``/<groupement>/<SIREN>``;
3. the lot is one of the adherent's lots (group attribute ``lots``).

An attribute value alone proves nothing: a coordinator may write any well-formed value in a
member's attribute, while group membership and the adherent's lots are structure he may not
write for another groupement.

**The remit.** A member may edit the identity (names, phones) of a person only when the person
is within the member's remit: every function value and every pending request the person holds is
for one of the member's own SIREN/lots, the person is not staff, and is not the principal of a
lot outside those SIREN/lots. Anyone else is « known elsewhere »: the member may link them to
their own SIREN/lot, never change who they are.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from portal.core.domain import Adherent, Function, Person, RequestStatus, Scope
from portal.core.keycloak import schema

#: The realm role of platform staff (support, coordinators): never a member's contact.
STAFF_ROLE = schema.STAFF_ROLE

NOT_A_MEMBER = "n’est pas membre du groupe de l’adhérent {siren}"
NO_SUCH_LOT = "le lot {lot} n’est pas un lot de l’adhérent {siren}"
#: Shown instead of the names and phones of a contact known elsewhere.
KNOWN_ELSEWHERE = "Identité tenue par ailleurs : seul le support peut la modifier"


def adherents_by_siren(adherents: Iterable[Adherent]) -> dict[str, Adherent]:
    """SIREN → adherent, for the adherent groups a person is a member of."""
    return {adherent.siren: adherent for adherent in adherents}


def refusal(scope: Scope, memberships: Mapping[str, Adherent]) -> str | None:
    """Why a function value for ``scope`` gives nothing (French), or None when it counts.
    ``memberships``: SIREN → adherent group the person is a member of."""
    adherent = memberships.get(scope.siren)
    if adherent is None:
        return NOT_A_MEMBER.format(siren=scope.siren)
    if scope.lot not in adherent.lots:
        return NO_SUCH_LOT.format(lot=scope.lot, siren=scope.siren)
    return None


def authorised_scopes(
    person: Person, function: Function, memberships: Mapping[str, Adherent]
) -> frozenset[Scope]:
    """The SIREN/lots where ``person`` holds ``function`` under the rule."""
    return frozenset(
        scope for scope in person.scopes(function) if refusal(scope, memberships) is None
    )


def acts_for(
    person: Person, function: Function, scope: Scope, memberships: Mapping[str, Adherent]
) -> bool:
    return scope in authorised_scopes(person, function, memberships)


def refused_scopes(
    person: Person, function: Function, memberships: Mapping[str, Adherent]
) -> list[tuple[Scope, str]]:
    """The person's values of ``function`` that give nothing, each with why (French)."""
    return [
        (scope, reason)
        for scope in sorted(person.scopes(function))
        if (reason := refusal(scope, memberships)) is not None
    ]


def held_scopes(person: Person) -> frozenset[Scope]:
    """Every SIREN/lot the person is linked to: any function value, any pending request."""
    functions = {scope for scopes in person.functions.values() for scope in scopes}
    pending = {r.scope for r in person.requests if r.status is RequestStatus.PENDING}
    return frozenset(functions | pending)


def principal_of(memberships: Iterable[Adherent], person_id: str) -> frozenset[Scope]:
    """The SIREN/lots whose principal is this person, from their adherent groups."""
    return frozenset(
        Scope(adherent.siren, lot)
        for adherent in memberships
        for lot, principal in adherent.principals.items()
        if principal == person_id
    )


@dataclass(frozen=True)
class Standing:
    """What is known about a person whose identity a member might edit."""

    person: Person
    staff: bool
    principal_of: frozenset[Scope]


def within_remit(standing: Standing, remit: Collection[Scope], unrestricted: bool = False) -> bool:
    """Whether a member acting on ``remit`` (their own SIREN/lots) may edit this person's
    identity. ``unrestricted``: support, who may edit anyone but staff."""
    if standing.staff:
        return False
    if unrestricted:
        return True
    scopes = set(remit)
    return held_scopes(standing.person) <= scopes and standing.principal_of <= scopes


def left_on_siren(person: Person, siren: str, memberships: Mapping[str, Adherent]) -> bool:
    """Whether the person still has a reason to be in the adherent group of ``siren``: a
    function value or a pending request on one of its lots, or being a principal there."""
    if any(scope.siren == siren for scope in held_scopes(person)):
        return True
    adherent = memberships.get(siren)
    return adherent is not None and person.id in adherent.principals.values()
