"""The notice of a new CGU version (portal.core.services.terms_notice): whom it is for, one
mail per person and version whoever runs it, and a run stopped by the mail server goes on
later with whoever is left. Keycloak is a stand-in here; the journey through the real Keycloak
and the SMTP sink is tests/e2e/test_cgu_versions.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from portal.core.domain import Function, Person, Scope
from portal.core.keycloak import schema
from portal.core.notify import NotificationFailed
from portal.core.services.terms_notice import TermsNotices
from tests.helpers.claims import MemoryClaims

VERSION = "2026-12"
SCOPE = Scope("213500010", "1")
ACCEPTED = Person(
    "p-accepte",
    "accepte@commune.fr",
    "Marie",
    "Dupont",
    functions={Function.COLLECTE: frozenset({SCOPE})},
    terms_accepted_at=datetime(2026, 1, 5, tzinfo=UTC),
    terms_version="2026-01",
)


class Realm:
    """What the notice reads from Keycloak: the version in force, everyone, staff roles."""

    def __init__(self, people: list[Person], staff: frozenset[str] = frozenset()) -> None:
        self.people, self.staff = people, staff

    def current_terms_version(self) -> str:
        return VERSION

    def everyone(self) -> Iterator[Person]:
        return iter(self.people)

    def realm_roles(self, person_id: str) -> frozenset[str]:
        return frozenset({schema.STAFF_ROLE}) if person_id in self.staff else frozenset()


class Outbox:
    support = "support@collecte.test"

    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail_after = fail_after

    def send(self, to: str, subject: str, body: str) -> None:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise NotificationFailed("messagerie indisponible")
        self.sent.append((to, subject, body))


def notices(realm: Realm, outbox: Outbox, claims: MemoryClaims) -> TermsNotices:
    return TermsNotices(realm, outbox, claims, "https://portail.test/connexion")  # type: ignore[arg-type]


@pytest.fixture
def claims() -> MemoryClaims:
    return MemoryClaims()


def person(n: int, **changes: Any) -> Person:
    return replace(ACCEPTED, id=f"p-{n}", email=f"p{n}@commune.fr", **changes)


def test_only_people_who_accepted_another_version_and_may_sign_in_are_mailed(
    claims: MemoryClaims,
) -> None:
    people = [
        person(1),  # collection contact, older version accepted: mailed
        person(2, terms_version=None),  # accepted before versions were recorded: mailed
        person(3, terms_version=VERSION),  # already accepted this one
        person(4, terms_accepted_at=None, terms_version=None),  # never accepted: CGU at sign-in
        person(5, enabled=False),  # disabled
        person(6, functions={Function.TECHNIQUE: frozenset({SCOPE})}),  # cannot sign in
        person(7, functions={}),  # staff: mailed
    ]
    outbox = Outbox()
    assert notices(Realm(people, staff=frozenset({"p-7"})), outbox, claims).announce() == 3
    assert [to for to, _, _ in outbox.sent] == ["p1@commune.fr", "p2@commune.fr", "p7@commune.fr"]
    _, subject, body = outbox.sent[0]
    assert subject == "Nouvelles conditions générales d’utilisation à accepter"
    assert f"version {VERSION}" in body and "https://portail.test/connexion" in body
    assert "support@collecte.test" in body and "ni mot de passe" in body


def test_two_consumers_and_later_runs_mail_each_person_once(claims: MemoryClaims) -> None:
    realm, outbox = Realm([person(n) for n in range(4)]), Outbox()
    first, second = notices(realm, outbox, claims), notices(realm, outbox, claims)
    assert first.announce() + second.announce() == 4
    realm.people.append(person(9))  # someone new after the version was announced: not mailed
    assert first.announce() == 0
    assert len(outbox.sent) == 4


def test_a_run_stopped_by_the_mail_server_goes_on_later_with_whoever_is_left(
    claims: MemoryClaims,
) -> None:
    realm = Realm([person(n) for n in range(5)])
    broken = Outbox(fail_after=2)
    with pytest.raises(NotificationFailed):
        notices(realm, broken, claims).announce()
    working = Outbox()
    assert notices(realm, working, claims).announce() == 3
    mailed = [to for to, _, _ in broken.sent + working.sent]
    assert sorted(mailed) == sorted(p.email for p in realm.people)
