"""« Je ne parviens pas à me connecter » : what the mail tells for each state of the diagnosis
(portal.core.services.self_help), told to the person, with the way forward."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from portal.core.domain import Adherent, Diagnosis, Function, Invitation, Person, Scope
from portal.core.services.self_help import Reinvitation, help_mail, problems

SUPPORT = "support@collecte.test"
LOGIN = "https://portail.test/connexion"
SCOPE = Scope("213500010", "1")
ADHERENT = Adherent("g-1", SCOPE.siren, "Commune", "GRP-EST", ("1", "2"))
NOW = datetime.now(UTC)
ABLE = Person(
    "p-1",
    "marie@commune.fr",
    "Marie",
    "Dupont",
    email_verified=True,
    functions={Function.COLLECTE: frozenset({SCOPE})},
    terms_accepted_at=NOW - timedelta(days=3),
    terms_version="2026-01",
)
#: A collection contact who can sign in: every condition met.
FINE = Diagnosis(
    ABLE.email,
    ABLE,
    activated_at=NOW - timedelta(days=3),
    current_terms_version="2026-01",
    memberships={SCOPE.siren: ADHERENT},
)


NOT_REINVITED = Reinvitation()


def told(diagnosis: Diagnosis, again: Reinvitation = NOT_REINVITED) -> list[str]:
    return problems(diagnosis, SUPPORT, again)


def test_nothing_stops_a_person_who_meets_every_condition() -> None:
    assert told(FINE) == []
    mail = help_mail(FINE, SUPPORT, LOGIN, Reinvitation())
    assert "Rien n’empêche votre connexion" in mail and LOGIN in mail
    assert "Mot de passe oublié ?" in mail and SUPPORT in mail
    assert "Si vous n’êtes pas à l’origine de cette demande" in mail


def test_a_technical_contact_learns_that_the_function_gives_no_access_and_whom_to_ask() -> None:
    person = replace(ABLE, functions={Function.TECHNIQUE: frozenset({SCOPE})})
    (only,) = told(replace(FINE, person=person))
    assert "interlocuteur technique pour 213500010/1" in only
    assert "ne donnent pas accès à la plateforme" in only
    assert "coordonnateur de votre groupement" in only and SUPPORT in only


def test_a_space_never_activated_points_to_the_invitation_still_valid() -> None:
    invitation = Invitation(NOW - timedelta(days=1), NOW + timedelta(days=6))
    (only,) = told(replace(FINE, activated_at=None, invitation=invitation))
    assert "pas encore activé" in only and "suivez le lien de l’invitation reçue le" in only


def test_an_expired_invitation_is_replaced_or_the_limit_said() -> None:
    expired = Invitation(NOW - timedelta(days=9), NOW - timedelta(days=2))
    diagnosis = replace(FINE, activated_at=None, invitation=expired)
    fresh = Invitation(NOW, NOW + timedelta(days=7))
    (sent,) = told(diagnosis, Reinvitation(sent=fresh))
    assert "un nouveau lien vient de vous être envoyé dans un e-mail séparé" in sent
    (refused,) = told(diagnosis, Reinvitation(refused="Trop d’invitations envoyées."))
    assert "Trop d’invitations envoyées." in refused and SUPPORT in refused


def test_never_invited_asks_the_coordinator_or_the_support() -> None:
    (only,) = told(replace(FINE, activated_at=None, invitation=None))
    assert "aucune invitation ne vous a encore été envoyée" in only and SUPPORT in only


def test_terms_not_accepted_or_outdated() -> None:
    (never,) = told(replace(FINE, person=replace(ABLE, terms_accepted_at=None)))
    assert never.startswith("Les conditions générales d’utilisation (CGU) ne sont pas acceptées")
    (outdated,) = told(replace(FINE, current_terms_version="2026-11"))
    assert "(CGU) en vigueur (version 2026-11) ne sont pas acceptées" in outdated


def test_a_locked_account_says_when_it_unlocks() -> None:
    until = datetime(2026, 12, 7, 10, 15, tzinfo=UTC)
    (only,) = told(replace(FINE, locked=True, locked_until=until))
    assert "temporairement verrouillé" in only
    assert "au plus tard le 07/12/2026 à 11:15 (heure de Paris)" in only


def test_a_disabled_account_goes_to_the_support() -> None:
    (only,) = told(replace(FINE, person=replace(ABLE, enabled=False)))
    assert "désactivé" in only and SUPPORT in only
