"""Abuse limits (issue 10) on invitations sent again, per person and per actor: support's
re-send, the acceptance of a request that would invite, and the coordinators' bulk re-send
to everyone not activated. A refusal writes nothing and sends no mail; the limits come back
after their window (a clock the test moves). Requests for a new contact:
test_abuse_limits_requests.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, user_json
from tests.helpers.pages import flashes
from tests.helpers.personas import SUPPORT_USER
from tests.helpers.settings import ADMIN_USERS_URL

from ..web.suivi._support import BASE, COORDINATOR, NOT_ACTIVATED, dataset, staff_groups
from ..web.support.test_support_queue import ACCEPT, NINA, NINA_ID
from . import _abuse_limits_support as shared
from ._abuse_limits_support import DAY, Clock, Post

# The fixtures both modules share: pytest finds a fixture under its name in the module.
app = shared.app
clock = shared.clock
limits = shared.limits

INVITEES = [
    user_json(f"i0000000-0000-4000-8000-00000000000{n}", f"invite{n}@demoville.fr", "I", f"{n}")
    for n in range(3)
]


@pytest.fixture
def coordinator(admin_api: AdminApi, sign_in_as: Callable[[dict[str, Any]], None]) -> AdminApi:
    """COORDINATOR of GROUPEMENT is signed in (as in tests/unit/web/suivi/conftest.py)."""
    admin_api.token()
    admin_api.roles(COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, COORDINATOR["id"], GROUPEMENT)
    sign_in_as(COORDINATOR)
    return admin_api


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
