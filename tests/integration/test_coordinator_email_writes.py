"""What a coordinator may write in a person's e-mail address, refused by Keycloak itself
(user-profile validator ProtectedEmailValidator of keycloak/providers), tried with a real
coordinator's Admin API token.

- Attack 3: a coordinator redirects an activated member's (or a staff member's) address to a
  mailbox of their own, then sends the invitation or uses « Mot de passe oublié » to choose
  the password.
- The address of someone also known in another groupement stays as it is; a colleague not yet
  activated may still have theirs corrected.

Callers with manage-users (the portal's service account: the support) are not restricted.
The two e-mail journeys use « Mot de passe oublié » in Chromium (the `page` fixture).
Attack 1, the functions, and the portal's records: test_coordinator_function_writes.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from keycloak.exceptions import KeycloakError

from tests.e2e.journeys import open_login_form
from tests.helpers.coordination import new_email, portal_admin
from tests.helpers.coordinator_writes import colleague as colleague
from tests.helpers.coordinator_writes import known_in_sud_too, person_in, refused
from tests.helpers.coordinator_writes import nord as nord
from tests.helpers.coordinator_writes import world as world

# `name as name`: the helper's pytest fixtures, requested by name by the tests below (an
# explicit re-export, not an unused import)

pytestmark = pytest.mark.keycloak

ACTIVATED = "Cette personne a activé son espace : seul le support"
STAFF = "membre de l’équipe de la plateforme : seul le support"
KNOWN_ELSEWHERE = "aussi interlocuteur d’un autre groupement"


# --- attack 3: the e-mail of an activated person or of a staff member ------------------------


def passwords(platform: Any, user_id: str) -> list[tuple[str, Any]]:
    return [
        (c["id"], c["createdDate"])
        for c in platform.admin.get_credentials(user_id)
        if c["type"] == "password"
    ]


def forgot_password(page: Any, platform: Any, email: str) -> None:
    """« Mot de passe oublié » in Chromium, from the portal's sign-in page. Keycloak's reset
    step (ours pads it) sends the mail, if any, before it answers: once the sign-in form is
    back, the mail is in the sink or never will be."""
    open_login_form(page, platform.portal_url)
    page.click("a[href*='reset-credentials']")
    page.fill("#username", email)
    page.click("#kc-form-buttons")
    page.wait_for_selector("#kc-form-login")


class Member(NamedTuple):
    id: str
    email: str


@pytest.fixture
def activated_colleague(platform: Any, colleague: str) -> Iterator[Member]:
    """The colleague after following their invitation (test shortcut: the product never sets a
    password)."""
    platform.admin.set_user_password(colleague, "Choisi-par-le-membre-2025", temporary=False)
    platform.admin.update_user(colleague, {"requiredActions": [], "emailVerified": True})
    yield Member(colleague, platform.admin.get_user(colleague)["email"])


def test_coordinator_cannot_take_an_activated_members_account_through_their_email(
    platform, nord, activated_colleague, page
):
    member = activated_colleague
    mailbox = new_email("boite-du-coordonnateur")
    credentials = passwords(platform, member.id)
    assert len(credentials) == 1

    person = nord.api.get_user(member.id)
    refused(
        lambda: nord.api.update_user(member.id, {**person, "email": mailbox}), "email", ACTIVATED
    )
    # the username follows the address (registrationEmailAsUsername): no way round through it
    try:
        nord.api.update_user(member.id, {**person, "username": mailbox})
    except KeycloakError as error:
        assert error.response_code == 400, error
    after = platform.admin.get_user(member.id)
    assert (after["email"], after["username"]) == (member.email, member.email)

    # the invitation then reaches the member's own mailbox, not the coordinator's
    received = platform.mail.count_for(member.email)
    nord.api.send_update_account(user_id=member.id, payload=["UPDATE_PASSWORD"])
    platform.mail.wait_for(member.email, count=received + 1)
    # « Mot de passe oublié » for the coordinator's mailbox finds nobody, for the member's own
    # address it mails the member: the silence is the address's, not a broken reset
    forgot_password(page, platform, mailbox)
    forgot_password(page, platform, member.email)
    platform.mail.wait_for(member.email, count=received + 2)
    assert platform.mail.count_for(mailbox) == 0
    assert passwords(platform, member.id) == credentials


def test_coordinator_cannot_change_a_staff_members_email(platform, world, nord, page):
    """A support account that is also a member of one of the coordinator's adherents: its role
    `support` includes `equipe-plateforme` (composite)."""
    staff_email = new_email("support")
    staff = platform.admin.create_user(
        {**person_in(world, (nord.code, world.siren_nord)), "email": staff_email}
    )
    platform.admin.assign_realm_roles(staff, [platform.admin.get_realm_role("support")])
    mailbox = new_email("boite-du-coordonnateur")

    person = nord.api.get_user(staff)
    refused(lambda: nord.api.update_user(staff, {**person, "email": mailbox}), "email", STAFF)
    assert platform.admin.get_user(staff)["email"] == staff_email
    nord.api.send_update_account(user_id=staff, payload=["UPDATE_PASSWORD"])
    platform.mail.wait_for(staff_email)
    forgot_password(page, platform, mailbox)
    assert platform.mail.count_for(mailbox) == 0
    assert passwords(platform, staff) == []


def test_coordinator_cannot_change_the_email_of_someone_known_in_another_groupement(
    platform, world, nord
):
    person_id = known_in_sud_too(platform, world)
    email = platform.admin.get_user(person_id)["email"]
    person = nord.api.get_user(person_id)
    refused(
        lambda: nord.api.update_user(person_id, {**person, "email": new_email("ailleurs")}),
        "email",
        KNOWN_ELSEWHERE,
    )
    assert platform.admin.get_user(person_id)["email"] == email


def test_coordinator_may_correct_the_email_of_a_colleague_not_yet_activated(
    platform, nord, colleague
):
    corrected = new_email("adresse-corrigee")
    person = nord.api.get_user(colleague)
    nord.api.update_user(colleague, {**person, "email": corrected})
    after = platform.admin.get_user(colleague)
    assert (after["email"], after["username"]) == (corrected, corrected)


def test_support_may_still_change_an_activated_members_email(platform, activated_colleague):
    corrected = new_email("adresse-changee-par-le-support")
    portal_admin(platform).update_user(activated_colleague.id, {"email": corrected})
    assert platform.admin.get_user(activated_colleague.id)["email"] == corrected
