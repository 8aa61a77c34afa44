"""What a person may write about themselves, tried against Keycloak with their own token.

Keycloak's account REST API (`/realms/collecte/account`, the path of its account console and of
any script holding the person's token) writes the person's own profile under the realm's user
profile (keycloak/user-profile.json): their name, nothing else. Their functions (`collecte`,
`technique`, `facturation`: what they may do, for which SIREN/lot) and the CGU version they
accepted (written by Keycloak's CGU page only, VersionedTermsAndConditions) stay as they are.
The token comes from the real login form (tests/helpers/signin.py), never from the password grant.

That API is closed to people since « Mon compte » replaced the account console (provisioning:
the account roles are no longer default roles; first test). The others give the person the
account roles, as a realm that reopened it would: the user profile must hold on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from keycloak.exceptions import KeycloakError

from tests.helpers.coordination import portal_admin
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import SigninClient, sign_in, signin_client

PASSWORD = "Essai-Mon-Compte-2026!"  # test set-up only: the product never sets a password
FUNCTIONS = ("collecte", "technique", "facturation")
ACCEPTED_VERSION = "cguVersionAcceptee"
# Keycloak's own record of a CGU acceptance (built-in TermsAndConditions): unmanaged here.
KEYCLOAK_TERMS_ATTRIBUTE = "terms_and_conditions"


@dataclass(frozen=True)
class Signed:
    id: str
    email: str
    siren: str
    token: str


@pytest.fixture
def client(platform: Any) -> Iterator[SigninClient]:
    with signin_client(platform.admin) as made:
        yield made


@pytest.fixture(params=[False])
def signed(
    request: pytest.FixtureRequest,
    platform: Any,
    client: SigninClient,
    activated_person: Callable[..., str],
) -> Signed:
    """A collection contact of a fresh SIREN (member of its adherent), signed in through the
    login form, the CGU page shown and accepted on the way as the person would."""
    siren = fresh_siren()
    email = activated_person(PASSWORD, collecte=[f"{siren}/1"])
    [person] = platform.admin.get_users({"email": email, "exact": True})
    platform.admin.update_user(person["id"], {"requiredActions": ["TERMS_AND_CONDITIONS"]})
    if request.param:
        account = platform.admin.get_client_id("account")
        roles = [
            platform.admin.get_client_role(account, name)
            for name in ("manage-account", "view-profile")
        ]
        platform.admin.assign_client_role(person["id"], account, roles)
    tokens = sign_in(platform.keycloak_url, client, email, PASSWORD, accept_terms=True)
    return Signed(str(person["id"]), email, siren, str(tokens["access_token"]))


#: The person with the account roles (the account API reopened), or as the realm leaves them.
with_account_roles = pytest.mark.parametrize("signed", [True], indirect=True)


def _account_url(platform: Any) -> str:
    return f"{platform.keycloak_url}/realms/collecte/account/"


def _own_account(platform: Any, signed: Signed) -> dict[str, Any]:
    response = requests.get(
        _account_url(platform),
        headers={"Authorization": f"Bearer {signed.token}", "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _write_own_account(platform: Any, signed: Signed, account: dict[str, Any]) -> requests.Response:
    return requests.post(
        _account_url(platform),
        json=account,
        headers={"Authorization": f"Bearer {signed.token}", "Accept": "application/json"},
        timeout=10,
    )


def _stored(platform: Any, signed: Signed) -> dict[str, Any]:
    return dict(platform.admin.get_user(signed.id))


def test_the_account_api_is_closed_to_a_person_with_the_realms_default_roles(platform, signed):
    """« Mon compte » replaced the console: its API reads and writes nothing for the person."""
    headers = {"Authorization": f"Bearer {signed.token}", "Accept": "application/json"}
    read = requests.get(_account_url(platform), headers=headers, timeout=10)
    assert read.status_code in (401, 403), read.text
    before = _stored(platform, signed)
    written = requests.post(
        _account_url(platform), json={"firstName": "Dominique"}, headers=headers, timeout=10
    )
    assert written.status_code in (401, 403), written.text
    assert _stored(platform, signed)["firstName"] == before["firstName"]


@with_account_roles
def test_a_person_may_correct_their_own_name_through_the_account_api(platform, signed):
    """The path is open to the person (else the refusals below would prove nothing)."""
    account = _own_account(platform, signed)
    answer = _write_own_account(platform, signed, {**account, "firstName": "Dominique"})
    assert answer.status_code == 204, answer.text
    assert _stored(platform, signed)["firstName"] == "Dominique"


@with_account_roles
@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_person_cannot_give_themselves_a_function(platform, signed, function):
    """Attack: the person adds a SIREN/lot to one of their functions with their own token."""
    before = _stored(platform, signed)["attributes"]
    account = _own_account(platform, signed)
    wanted = f"{fresh_siren()}/1"
    attributes = {**account.get("attributes", {}), function: [f"{signed.siren}/1", wanted]}
    answer = _write_own_account(platform, signed, {**account, "attributes": attributes})
    assert answer.status_code == 400, answer.text
    assert function in answer.text
    assert _stored(platform, signed)["attributes"].get(function) == before.get(function)


@with_account_roles
def test_a_person_cannot_remove_their_own_collection_function(platform, signed):
    """Functions are given and taken by the adherent's members, the coordinators or support,
    who answer for it (the portal records who); not by the person through Keycloak."""
    account = _own_account(platform, signed)
    attributes = {**account.get("attributes", {}), "collecte": []}
    answer = _write_own_account(platform, signed, {**account, "attributes": attributes})
    assert answer.status_code == 400, answer.text
    assert _stored(platform, signed)["attributes"]["collecte"] == [f"{signed.siren}/1"]


@with_account_roles
@pytest.mark.parametrize("attribute", [ACCEPTED_VERSION, KEYCLOAK_TERMS_ATTRIBUTE])
def test_a_person_cannot_record_a_cgu_acceptance_themselves(platform, signed, attribute):
    """Attack: recording the acceptance of a CGU version they were never shown (a later one,
    to skip the page when it comes). Only Keycloak's CGU page writes it."""
    before = _stored(platform, signed)["attributes"]
    assert before[ACCEPTED_VERSION]  # accepted on the way in, by the page
    account = _own_account(platform, signed)
    assert ACCEPTED_VERSION not in account.get("attributes", {})  # not even shown to them
    attributes = {**account.get("attributes", {}), attribute: ["2099-12-31"]}
    answer = _write_own_account(platform, signed, {**account, "attributes": attributes})
    assert answer.status_code in (204, 400), answer.text
    after = _stored(platform, signed)["attributes"]
    assert after.get(ACCEPTED_VERSION) == before[ACCEPTED_VERSION]
    assert after.get(KEYCLOAK_TERMS_ATTRIBUTE) == before.get(KEYCLOAK_TERMS_ATTRIBUTE)


@pytest.mark.parametrize("writer", ["master", "portal"])
def test_no_administrator_records_a_cgu_acceptance_either(platform, signed, writer):
    """The provisioning's master administrator and the portal's service account (the Admin API
    the console and the portal use): a sent version is not stored, a left-out one is kept."""
    admin = platform.admin if writer == "master" else portal_admin(platform)
    before = _stored(platform, signed)
    accepted = before["attributes"][ACCEPTED_VERSION]
    forged = {**before["attributes"], ACCEPTED_VERSION: ["2099-12-31"]}
    try:
        admin.update_user(signed.id, {**before, "attributes": forged})
    except KeycloakError as refused:
        assert refused.response_code == 400, refused
    assert _stored(platform, signed)["attributes"][ACCEPTED_VERSION] == accepted
    left_out = {k: v for k, v in before["attributes"].items() if k != ACCEPTED_VERSION}
    admin.update_user(signed.id, {**_stored(platform, signed), "attributes": left_out})
    assert _stored(platform, signed)["attributes"][ACCEPTED_VERSION] == accepted
