"""Mon espace: a member reaches their own SIREN/lot pairs only; CSRF; signed-out visitors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
import requests
import responses
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_A, SCOPE_B, SIREN_A, SIREN_B
from tests.helpers.personas import MEMBER, OUTSIDER, TECHNICIAN
from tests.helpers.settings import TOKEN_ENDPOINT

Post = Callable[..., TestResponse]
SignIn = Callable[[Mapping[str, Any]], None]
CONTACT = {
    "nom": "Autre",
    "prenom": "Paul",
    "email": "paul.autre@syndicat-demoville.fr",
    "telephone_fixe": "02 99 00 00 02",
    "fonctions": "technique",
}
A, B = f"/espace/{SIREN_A}/1", f"/espace/{SIREN_B}/1"
# Lot 2 of member A's own SIREN: the adherent lists lots 1 and 2 and A is in its group, so only
# A's function (collecte on lot 1 alone) keeps them out of it.
A2, SCOPE_A2 = f"/espace/{SIREN_A}/2", f"{SIREN_A}/2"
TECH_ID, OUTSIDER_ID = TECHNICIAN["id"], OUTSIDER["id"]


def scope_routes(scope_path: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"{scope_path}/"),
        ("GET", f"{scope_path}/contacts/nouveau"),
        ("POST", f"{scope_path}/contacts/nouveau"),
    ]


def person_routes(
    person_id: str, scope_path: str = A, perimetre: str = SCOPE_A
) -> list[tuple[str, str]]:
    return [
        ("GET", f"{scope_path}/contacts/{person_id}/modifier"),
        ("POST", f"{scope_path}/contacts/{person_id}/modifier"),
        ("POST", f"{scope_path}/contacts/{person_id}/retirer"),
        ("GET", f"/espace/demandes/nouvelle?perimetre={perimetre}&personne={person_id}"),
    ]


#: (method, path) of every route; the POSTs are sent with a valid form.
ROUTES = [*scope_routes(A), *person_routes(TECH_ID), ("POST", "/espace/demandes/nouvelle")]


def no_read(api: AdminApi) -> None:
    """Refused before any Keycloak read beyond the member's own record."""


def send(client: FlaskClient, post: Post, method: str, path: str) -> TestResponse:
    if method == "GET":
        return client.get(path)
    return post(path, {**CONTACT, "perimetre": SCOPE_A})


def assert_not_found(response: TestResponse) -> None:
    assert response.status_code == 404, response.get_data(as_text=True)
    assert "Page introuvable" in response.get_data(as_text=True)


# --- authorization ----------------------------------------------------------------------------


def read_outsider(api: AdminApi) -> None:
    api.person(OUTSIDER)


MATRIX = [
    # Member B's SIREN/lot and B's own contact.
    *(
        pytest.param(m, p, no_read, id=f"perimetre-de-B-{m}-{p}")
        for m, p in scope_routes(B) + person_routes(OUTSIDER_ID, B, SCOPE_B)
    ),
    # Another lot of A's own SIREN: same adherent, same group, no function there.
    *(
        pytest.param(m, p, no_read, id=f"autre-lot-meme-SIREN-{m}-{p}")
        for m, p in scope_routes(A2) + person_routes(TECH_ID, A2, SCOPE_A2)
    ),
    # A's SIREN/lot, with B's contact: not a contact of A's SIREN/lot.
    *(
        pytest.param(m, p, read_outsider, id=f"contact-de-B-{m}-{p}")
        for m, p in person_routes(OUTSIDER_ID)
    ),
    # A themself: a collection contact, not a technical or billing one, so not editable here.
    *(pytest.param(m, p, no_read, id=f"soi-meme-{m}-{p}") for m, p in person_routes(MEMBER["id"])),
    pytest.param(
        "POST",
        f"{A}/contacts/inconnu/retirer",
        lambda api: api.unknown_person("inconnu"),
        id="personne-inconnue",
    ),
]


@pytest.mark.parametrize(("method", "path", "reads"), MATRIX)
def test_member_a_cannot_reach_beyond_their_scope(
    client: FlaskClient,
    member: AdminApi,
    post: Post,
    method: str,
    path: str,
    reads: Callable[[AdminApi], None],
) -> None:
    reads(member)
    assert_not_found(send(client, post, method, path))
    assert member.writes() == []


def test_another_adherent_looks_like_one_that_does_not_exist(
    client: FlaskClient, member: AdminApi
) -> None:
    other, missing = client.get(f"{B}/"), client.get("/espace/552081317/1/")
    assert_not_found(other)
    assert other.get_data() == missing.get_data()


def test_another_lot_of_the_same_siren_looks_like_one_that_does_not_exist(
    client: FlaskClient, member: AdminApi
) -> None:
    other, missing = client.get(f"{A2}/"), client.get(f"/espace/{SIREN_A}/7/")
    assert_not_found(other)
    assert other.get_data() == missing.get_data()
    assert member.writes() == []


def test_request_form_for_another_scope_offers_only_the_members_own(
    client: FlaskClient, member: AdminApi
) -> None:
    member.adherent(SIREN_A)
    body = client.get(f"/espace/demandes/nouvelle?perimetre={SCOPE_B}").get_data(as_text=True)
    assert SCOPE_A in body
    assert SIREN_B not in body


@pytest.mark.parametrize(
    "path",
    [
        "/espace/12345/1/",
        "/espace/2135000100/1/",
        "/espace/21350001a/1/contacts/nouveau",
        f"/espace/{SIREN_A}/lot%201/",
        f"/espace/{SIREN_A}/-1/contacts/{TECH_ID}/modifier",
        f"/espace/{SIREN_A}/{'1' * 21}/",
        f"{A}/contacts/..%2Fx/modifier",
    ],
)
def test_malformed_siren_or_lot_is_not_found_without_asking_keycloak(
    client: FlaskClient, sign_in_as: SignIn, path: str
) -> None:
    sign_in_as(MEMBER)
    assert_not_found(client.get(path))


@pytest.mark.parametrize(
    "path",
    [
        f"{A}/contacts/a%20b/modifier",
        f"/espace/demandes/nouvelle?perimetre=n-importe-quoi&personne={TECH_ID}",
        f"/espace/demandes/nouvelle?personne={TECH_ID}",
    ],
)
def test_malformed_person_or_scope_parameter_is_not_found(
    client: FlaskClient, member: AdminApi, path: str
) -> None:
    assert_not_found(client.get(path))


def test_a_person_unknown_to_keycloak_has_no_space(
    client: FlaskClient, admin_api: AdminApi, sign_in_as: SignIn
) -> None:
    admin_api.token()
    admin_api.unknown_person(MEMBER["id"])
    sign_in_as(MEMBER)
    assert_not_found(client.get("/espace/"))


def test_keycloak_down_gives_the_french_unavailable_page(
    client: FlaskClient, kc: responses.RequestsMock, sign_in_as: SignIn
) -> None:
    kc.post(TOKEN_ENDPOINT, body=requests.ConnectionError("refused"))
    sign_in_as(MEMBER)
    response = client.get("/espace/")
    assert response.status_code == 503
    assert "Service momentanément indisponible" in response.get_data(as_text=True)


# --- CSRF and signed-out visitors -------------------------------------------------------------

POSTS = [path for method, path in ROUTES if method == "POST"]


@pytest.mark.parametrize("path", POSTS)
def test_post_without_csrf_token_is_refused(
    client: FlaskClient, sign_in_as: SignIn, path: str
) -> None:
    sign_in_as(MEMBER)
    response = client.post(path, data={**CONTACT, "perimetre": SCOPE_A})
    assert response.status_code == 400
    assert "Le formulaire a expiré ou n’est pas valide" in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), [("GET", "/espace/"), *ROUTES])
def test_signed_out_visitors_are_sent_to_sign_in(
    client: FlaskClient, post: Post, method: str, path: str
) -> None:
    response = send(client, post, method, path)
    assert response.status_code == 302
    assert response.location.startswith("/connexion?next=/espace/")
