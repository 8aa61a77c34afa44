"""A contact whose e-mail someone creates between the portal's search and its creation
(Keycloak answers 409): one e-mail is one person, so they gain the functions as any existing
person does, instead of the member meeting an error page."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import SCOPE_B, SIREN_A, user_json
from tests.helpers.pages import flashes
from tests.helpers.settings import ADMIN_USERS_URL

Post = Callable[..., TestResponse]

NEW_EMAIL = "jean.nouveau@demoville.fr"
SCOPE_PAGE = f"/espace/{SIREN_A}/1/"
CONTACT = {
    "nom": "Nouveau",
    "prenom": "Jean",
    "email": NEW_EMAIL,
    "telephone_fixe": "02 99 00 00 01",
    "telephone_mobile": "",
    "fonctions": "technique",
}


def test_a_contact_created_meanwhile_gains_the_function_without_an_error_page(
    client: FlaskClient, member: AdminApi, post: Post
) -> None:
    meanwhile = user_json("m-1", NEW_EMAIL, "Jean", "Nouveau", technique=[SCOPE_B])
    member.adherent(SIREN_A)
    member.email_search(NEW_EMAIL, [])  # the portal's search: nobody yet
    member.someone_has(meanwhile)  # then someone else creates the address
    member.accept_create("never-created")  # so Keycloak answers 409
    member.email_search(NEW_EMAIL, [meanwhile])  # the search made again finds them
    member.person(meanwhile)
    member.accept_update("m-1")
    member.accept_join("m-1", SIREN_A)

    response = post(f"{SCOPE_PAGE}contacts/nouveau", CONTACT)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location == SCOPE_PAGE
    assert flashes(client) == [("info", "Contact enregistré.")]
    assert member.writes() == [
        f"POST {ADMIN_USERS_URL}",
        f"PUT {ADMIN_USERS_URL}/m-1",
        f"PUT {ADMIN_USERS_URL}/m-1/groups/g-{SIREN_A}",
    ]
    [updated] = member.sent("PUT", f"{ADMIN_USERS_URL}/m-1")
    assert updated["attributes"]["technique"] == [SCOPE_B, f"{SIREN_A}/1"]
    assert "never-created" not in member.people
