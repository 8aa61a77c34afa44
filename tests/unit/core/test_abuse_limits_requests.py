"""Abuse limits (issue 10) on requests for a new collection contact, per member and per
proposed e-mail: a refusal writes nothing to Keycloak, sends no mail and says in French which
limit and when to try again; only requests that went through are counted; the limits come
back after their window (a clock the test moves). Also how the limits and their store are
configured. Invitations sent again: test_abuse_limits_reinvites.py."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_A, SIREN_A, user_json
from tests.helpers.mail import FakeSMTP
from tests.helpers.pages import assert_field_error
from tests.helpers.personas import MEMBER, TECHNICIAN

from ..web.espace.test_espace_writes import CONTACT, REQUEST_URL
from . import _abuse_limits_support as shared
from ._abuse_limits_support import DAY, Clock, Post

# The fixtures both modules share: pytest finds a fixture under its name in the module.
app = shared.app
clock = shared.clock
limits = shared.limits

SENT = "Demande transmise au support : vous pouvez suivre son état ci-dessous."
#: Another collection contact of SCOPE_A.
COLLEAGUE = user_json(
    "a0000000-0000-4000-8000-0000000000bb",
    "luc.collegue@demoville.fr",
    "Luc",
    "Collègue",
    collecte=[SCOPE_A],
)


def request_accepted(api: AdminApi, post: Post, email: str, person_id: str) -> None:
    """A request for ``email`` (unknown to Keycloak) that goes through."""
    api.email_search(email, [])
    api.accept_create(person_id)
    response = post(REQUEST_URL, {**CONTACT, "email": email, "perimetre": SCOPE_A})
    assert response.status_code == 302, response.get_data(as_text=True)
    # The search answers "unknown" each time: the fake, which refuses an e-mail it holds as
    # Keycloak does (409), forgets the person so that both agree.
    api.people.pop(person_id)


def request_refused(api: AdminApi, post: Post, email: str, message: str) -> None:
    """A request refused by a limit: the message beside the e-mail, nothing written."""
    writes = api.writes()
    response = post(REQUEST_URL, {**CONTACT, "email": email, "perimetre": SCOPE_A})
    assert response.status_code == 422
    assert_field_error(response, "email", message)
    assert api.writes() == writes


# --- requests for a new collection contact ----------------------------------------------------


def test_a_fourth_request_for_the_same_address_is_refused(
    client: FlaskClient,
    member: AdminApi,
    post: Post,
    outbox: list[EmailMessage],
    clock: Clock,
) -> None:
    """Default: 3 per 24 hours per proposed e-mail."""
    member.adherent(SIREN_A)
    target = "cible@demoville.fr"
    for _ in range(3):
        request_accepted(member, post, target, "n-0")
        clock.advance(60)
    assert len(outbox) == 3

    request_refused(
        member,
        post,
        target,
        "Trop de demandes pour cette adresse (3 par 24 heures au plus) : rien n’a été "
        "enregistré. Réessayez à partir du 02/12/2026 à 10:16 (heure de Paris).",
    )
    assert len(outbox) == 3  # support is not told of a refused request


@pytest.mark.parametrize("limits", [{"RATE_LIMIT_REQUESTS_PER_TARGET": "2 per 24 hours"}])
def test_the_address_limit_counts_every_member_and_says_nothing_about_accounts(
    client: FlaskClient,
    signed_in: Callable[[dict[str, Any]], AdminApi],
    sign_in_as: Callable[[dict[str, Any]], None],
    post: Post,
    outbox: list[EmailMessage],
    clock: Clock,
) -> None:
    """Whoever files them; the refusal is the same for a known and an unknown address, and
    comes before Keycloak is asked anything about the address (no enumeration, even by time)."""
    api = signed_in(MEMBER)
    api.adherent(SIREN_A)
    known, unknown = TECHNICIAN["email"], "personne@demoville.fr"
    api.email_search(known, [TECHNICIAN])
    api.person(TECHNICIAN)
    api.accept_update(TECHNICIAN["id"])
    api.accept_join(TECHNICIAN["id"], SIREN_A)
    api.email_search(unknown, [])
    api.accept_create("n-1")
    api.person(COLLEAGUE)
    for member in (MEMBER, COLLEAGUE):  # two members of the same SIREN/lot
        sign_in_as(member)
        for email in (known, unknown):
            response = post(REQUEST_URL, {**CONTACT, "email": email, "perimetre": SCOPE_A})
            assert response.status_code == 302, response.get_data(as_text=True)
        api.people.pop("n-1")  # the search answers "unknown" again: see request_accepted
    assert len(outbox) == 4

    def searches() -> int:
        return sum("/users?email=" in str(call.request.url) for call in api.kc.calls)

    asked = searches()
    refusal = (
        "Trop de demandes pour cette adresse (2 par 24 heures au plus) : rien n’a été "
        "enregistré. Réessayez à partir du 02/12/2026 à 10:16 (heure de Paris)."
    )
    for email in (known, unknown):
        request_refused(api, post, email, refusal)
    assert searches() == asked
    assert len(outbox) == 4


@pytest.mark.parametrize("limits", [{"RATE_LIMIT_REQUESTS_PER_MEMBER": "2 per 24 hours"}])
def test_a_member_over_their_limit_is_refused_until_the_window_moves(
    client: FlaskClient, member: AdminApi, post: Post, outbox: list[EmailMessage], clock: Clock
) -> None:
    def refusal(retry_at: str) -> str:
        return (
            "Vous avez atteint le nombre maximal de demandes d’interlocuteur de collecte "
            "(2 par 24 heures au plus) : rien n’a été enregistré. "
            f"Réessayez à partir du {retry_at} (heure de Paris)."
        )

    member.adherent(SIREN_A)
    request_accepted(member, post, "un@demoville.fr", "n-1")
    clock.advance(3600)
    request_accepted(member, post, "deux@demoville.fr", "n-2")

    request_refused(member, post, "trois@demoville.fr", refusal("02/12/2026 à 10:16"))
    assert len(outbox) == 2

    clock.advance(DAY - 3600 + 30)  # 02/12 at 10:16:00, as said: the first one has left
    request_accepted(member, post, "trois@demoville.fr", "n-3")
    assert len(outbox) == 3
    request_refused(member, post, "quatre@demoville.fr", refusal("02/12/2026 à 11:16"))


@pytest.mark.parametrize("limits", [{"RATE_LIMIT_REQUESTS_PER_TARGET": "1 per 24 hours"}])
def test_a_request_that_did_not_go_through_is_not_counted(
    client: FlaskClient,
    member: AdminApi,
    post: Post,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
) -> None:
    """Support could not be told (mail down): the request was withdrawn, and the member may
    file it again at once."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("portal.core.notify.smtplib.SMTP", refuse)
    member.adherent(SIREN_A)
    member.email_search("cible@demoville.fr", [])
    member.accept_create("n-1")
    member.accept_update("n-1")
    response = post(REQUEST_URL, {**CONTACT, "email": "cible@demoville.fr", "perimetre": SCOPE_A})
    assert response.status_code == 503

    messages: list[EmailMessage] = []
    monkeypatch.setattr(FakeSMTP, "outbox", messages, raising=False)
    monkeypatch.setattr("portal.core.notify.smtplib.SMTP", FakeSMTP)
    member.people.pop("n-1")  # the search answers "unknown" again: see request_accepted
    member.email_search("cible@demoville.fr", [])
    response = post(REQUEST_URL, {**CONTACT, "email": "cible@demoville.fr", "perimetre": SCOPE_A})
    assert response.status_code == 302
    assert len(messages) == 1


# --- configuration ----------------------------------------------------------------------------


def test_the_stated_limits_are_the_defaults(app: Flask) -> None:
    from portal.web.pages import abuse_limits

    with app.app_context():
        limits = abuse_limits()
    assert limits.storage_uri == "memory://"
    assert [
        limit.rate
        for limit in (
            limits.requests_per_member,
            limits.requests_per_target,
            limits.reinvites_per_target,
            limits.reinvites_per_actor,
        )
    ] == ["10 par 24 heures", "3 par 24 heures", "3 par 24 heures", "200 par heure"]


def test_limits_and_store_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., Flask]
) -> None:
    from portal.web.pages import abuse_limits

    monkeypatch.setenv("COLLECTE_RATE_LIMIT_STORAGE_URI", "memory://portail-essai")
    monkeypatch.setenv("COLLECTE_RATE_LIMIT_REQUESTS_PER_MEMBER", "5 per 2 hours")
    monkeypatch.setenv("COLLECTE_RATE_LIMIT_REINVITES_PER_ACTOR", "20/minute")
    app = make_app()
    with app.app_context():
        limits = abuse_limits()
    assert limits.storage_uri == "memory://portail-essai"
    assert limits.requests_per_member.rate == "5 par 2 heures"
    assert limits.reinvites_per_actor.rate == "20 par minute"
    assert limits.requests_per_target.rate == "3 par 24 heures"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COLLECTE_RATE_LIMIT_REQUESTS_PER_TARGET", "beaucoup"),
        ("COLLECTE_RATE_LIMIT_STORAGE_URI", "inconnu://hote"),
        ("COLLECTE_RATE_LIMIT_STORAGE_URI", '""'),
    ],
)
def test_an_unusable_limit_or_store_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, make_app: Callable[..., Flask], name: str, value: str
) -> None:
    from portal.web.app import ConfigurationError

    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match="COLLECTE_RATE_LIMIT_"):
        make_app()


def test_each_app_counts_in_its_own_memory_store(make_app: Callable[..., Flask]) -> None:
    from portal.web.pages import abuse_limits

    first, second = make_app(), make_app()
    with first.app_context():
        guard = abuse_limits().collection_request("m", "x@demoville.fr")
        for _ in range(3):
            guard.count()
        with pytest.raises(Exception, match="Trop de demandes"):
            guard.check()
    with second.app_context():
        abuse_limits().collection_request("m", "x@demoville.fr").check()
