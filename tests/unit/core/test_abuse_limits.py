"""Abuse limits (issue 10): requests for a new collection contact are limited per member and per
proposed e-mail, invitations sent again per person and per actor. A refusal writes nothing to
Keycloak, sends no mail and says in French which limit and when to try again; only actions that
went through are counted; the limits come back after their window (a clock the test moves).

Each test's app has its own ``memory://`` store (portal.create_app builds one per app)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, SCOPE_A, SIREN_A, user_json
from tests.helpers.mail import FakeSMTP
from tests.helpers.pages import assert_field_error, flashes
from tests.helpers.personas import MEMBER, SUPPORT_USER, TECHNICIAN
from tests.helpers.settings import ADMIN_USERS_URL

from ..web.espace.test_espace_writes import CONTACT, REQUEST_URL
from ..web.suivi.test_suivi import BASE, COORDINATOR, NOT_ACTIVATED, dataset, staff_groups
from ..web.support.test_support_queue import ACCEPT, NINA, NINA_ID

Post = Callable[..., TestResponse]
DAY = 24 * 3600
SENT = "Demande transmise au support : vous pouvez suivre son état ci-dessous."
#: Another collection contact of SCOPE_A.
COLLEAGUE = user_json(
    "a0000000-0000-4000-8000-0000000000bb",
    "luc.collegue@demoville.fr",
    "Luc",
    "Collègue",
    collecte=[SCOPE_A],
)
INVITEES = [
    user_json(f"i0000000-0000-4000-8000-00000000000{n}", f"invite{n}@demoville.fr", "I", f"{n}")
    for n in range(3)
]


#: When each test's clock starts: 01/12/2026 at 10:15:30, Paris time.
START = datetime(2026, 12, 1, 9, 15, 30, tzinfo=UTC).timestamp()


class Clock:
    """Stands for the ``time`` module of the limits library's memory store: the windows move
    when the test says so, without sleeping."""

    def __init__(self) -> None:
        self.now = START

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moving = Clock()
    monkeypatch.setattr("limits.storage.memory.time", moving)
    return moving


@pytest.fixture
def limits() -> dict[str, Any]:
    """Overrides of the limits for one test (defaults unless a test changes them)."""
    return {}


@pytest.fixture
def app(make_app: Callable[..., Flask], limits: dict[str, Any]) -> Flask:
    return make_app(**limits)


@pytest.fixture
def coordinator(admin_api: AdminApi, sign_in_as: Callable[[dict[str, Any]], None]) -> AdminApi:
    """COORDINATOR of GROUPEMENT is signed in (as in test_suivi)."""
    admin_api.token()
    admin_api.roles(COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, COORDINATOR["id"], GROUPEMENT)
    sign_in_as(COORDINATOR)
    return admin_api


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


# --- invitations sent again by support ------------------------------------------------------


def reinvite_mocks(api: AdminApi, person: dict[str, Any]) -> None:
    api.person(person)
    api.realm()
    api.accept_update(person["id"])
    api.accept_invitation(person["id"])


def reinvite(post: Post, person: dict[str, Any]) -> TestResponse:
    return post(f"/support/personnes/{person['id']}/reinviter", {"email": person["email"]})


def invitations_sent(api: AdminApi) -> list[str]:
    return [
        url.removeprefix(f"PUT {ADMIN_USERS_URL}/").partition("/")[0]
        for url in api.writes()
        if "/execute-actions-email?" in url
    ]


def test_a_fourth_re_send_to_the_same_person_is_refused(
    client: FlaskClient, support: AdminApi, post: Post, clock: Clock
) -> None:
    """Default: 3 invitations per person per 24 hours."""
    person = INVITEES[0]
    reinvite_mocks(support, person)
    for _ in range(3):
        assert reinvite(post, person).status_code == 302
        clock.advance(600)
    with client.session_transaction() as sess:
        sess.pop("_flashes", None)
    writes = support.writes()

    response = reinvite(post, person)

    assert response.status_code == 302
    assert response.location == f"/support/diagnostic?email={person['email']}"
    assert support.writes() == writes  # no PUT of the record, no mail
    assert flashes(client) == [
        (
            "erreur",
            "Trop d’invitations envoyées à cette personne (3 par 24 heures au plus) : aucune "
            "invitation n’a été envoyée. Réessayez à partir du 02/12/2026 à 10:16 "
            "(heure de Paris).",
        )
    ]

    clock.advance(DAY)  # all three left the window
    reinvite(post, person)
    assert invitations_sent(support) == [person["id"]] * 4


@pytest.mark.parametrize("limits", [{"RATE_LIMIT_REINVITES_PER_ACTOR": "2 per 1 hour"}])
def test_a_support_agent_over_their_hourly_limit_is_refused(
    client: FlaskClient, support: AdminApi, post: Post, clock: Clock
) -> None:
    for person in INVITEES:
        reinvite_mocks(support, person)
    reinvite(post, INVITEES[0])
    clock.advance(60)
    reinvite(post, INVITEES[1])
    with client.session_transaction() as sess:
        sess.pop("_flashes", None)

    reinvite(post, INVITEES[2])

    assert invitations_sent(support) == [INVITEES[0]["id"], INVITEES[1]["id"]]
    assert not any(INVITEES[2]["id"] in write for write in support.writes())
    assert flashes(client) == [
        (
            "erreur",
            "Vous avez renvoyé trop d’invitations (2 par heure au plus) : aucune invitation "
            "n’a été envoyée. Réessayez à partir du 01/12/2026 à 11:16 (heure de Paris).",
        )
    ]
    clock.advance(3600 - 60 + 30)  # 11:16:00
    reinvite(post, INVITEES[2])
    assert invitations_sent(support)[-1] == INVITEES[2]["id"]


@pytest.mark.parametrize("limits", [{"RATE_LIMIT_REINVITES_PER_TARGET": "1 per 24 hours"}])
def test_accepting_a_request_that_would_invite_over_the_limit_writes_nothing(
    client: FlaskClient, support: AdminApi, post: Post, clock: Clock
) -> None:
    """Any invitation sent on demand counts for its person: here support's re-send, then the
    acceptance of a request that would send another."""
    reinvite_mocks(support, NINA)
    support.credentials(NINA_ID)
    reinvite(post, NINA)
    with client.session_transaction() as sess:
        sess.pop("_flashes", None)
    writes = support.writes()

    response = post(ACCEPT)

    assert response.status_code == 302
    assert support.writes() == writes
    [(category, message)] = flashes(client)
    assert category == "erreur"
    assert message.startswith(
        "La demande n'a pas été acceptée. Trop d’invitations envoyées à cette personne "
        "(1 par 24 heures au plus)"
    )


# --- the coordinators' follow-up: re-send to everyone not activated ---------------------------


def bulk_mocks(api: AdminApi, invited: int = len(NOT_ACTIVATED)) -> None:
    """The follow-up of GROUPEMENT; the first ``invited`` people are invited."""
    dataset(api)
    for person in NOT_ACTIVATED[:invited]:
        api.person(person)
        api.accept_update(person["id"])
        api.accept_invitation(person["id"])


def bulk_messages(client: FlaskClient) -> list[str]:
    with client.session_transaction() as sess:
        return [message for _, message in sess.pop("_flashes", [])]


@pytest.mark.parametrize("limits", [{"RATE_LIMIT_REINVITES_PER_TARGET": "1 per 24 hours"}])
def test_bulk_re_send_skips_people_over_their_limit(
    client: FlaskClient, coordinator: AdminApi, post: Post, clock: Clock
) -> None:
    bulk_mocks(coordinator)
    post(f"{BASE}/relancer")
    assert bulk_messages(client) == ["3 invitations renvoyées."]
    writes = coordinator.writes()

    clock.advance(3600)
    post(f"{BASE}/relancer")

    assert coordinator.writes() == writes
    assert bulk_messages(client) == [
        "0 invitation renvoyée.",
        "3 invitations non renvoyées : limite atteinte (1 par 24 heures par personne, 200 par "
        "heure par auteur de la relance). Réessayez plus tard pour ces personnes.",
    ]


@pytest.mark.parametrize("limits", [{"RATE_LIMIT_REINVITES_PER_ACTOR": "2 per 1 hour"}])
def test_bulk_re_send_stops_at_the_actors_limit(
    client: FlaskClient, coordinator: AdminApi, post: Post, clock: Clock
) -> None:
    bulk_mocks(coordinator, invited=2)
    post(f"{BASE}/relancer")
    assert len(invitations_sent(coordinator)) == 2
    assert bulk_messages(client) == [
        "2 invitations renvoyées.",
        "1 invitation non renvoyée : limite atteinte (3 par 24 heures par personne, 2 par "
        "heure par auteur de la relance). Réessayez plus tard pour ces personnes.",
    ]


@pytest.mark.parametrize("limits", [{"RATE_LIMIT_REINVITES_PER_TARGET": "1 per 24 hours"}])
def test_support_and_coordinators_share_the_per_person_limit(
    client: FlaskClient,
    coordinator: AdminApi,
    sign_in_as: Callable[[dict[str, Any]], None],
    post: Post,
    clock: Clock,
) -> None:
    bulk_mocks(coordinator)
    coordinator.roles(SUPPORT_USER["id"], "support", "equipe-plateforme")
    sign_in_as(SUPPORT_USER)
    reinvite(post, NOT_ACTIVATED[0])
    sign_in_as(COORDINATOR)
    bulk_messages(client)
    post(f"{BASE}/relancer")
    assert invitations_sent(coordinator) == [p["id"] for p in NOT_ACTIVATED]  # 1 + 2
    assert bulk_messages(client)[1].startswith("1 invitation non renvoyée : limite atteinte")


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
