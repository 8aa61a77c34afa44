"""`GET /admin/realms/collecte/collecte-pages/people/<id>` (PageReadResource): what one portal
page needs about a person in one call, fresh; refused to anyone but holders of realm-management
`view-users` (the portal's service account), with real tokens: a member's and a coordinator's
(whose permissions do cover the people of their groupement) are refused, even about themselves.
And `POST …/collecte-pages/people/by-email` (the bulk import's « who exists? ») and
`POST …/collecte-pages/adherents/by-siren` (its « which groupement holds these SIRENs? »):
answered to the portal and the command line, refused to members and coordinators."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from keycloak.keycloak_admin import KeycloakAdmin

from tests.helpers.coordination import PASSWORD, Groupement, activate, groupement, portal_admin
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import admin_api_as

PATH = "admin/realms/collecte/collecte-pages/people/{}"


def read(api: KeycloakAdmin, person_id: str, **params: str) -> Any:
    return api.connection.raw_get(PATH.format(person_id), **params)


def admin_api_of(platform: Any, grp: Groupement, who: str) -> KeycloakAdmin:
    """The Admin API with the real token of the groupement's member or coordinator."""
    if who == "coordinator":
        return grp.api
    activate(platform, grp.member_id)
    return admin_api_as(platform.admin, platform.keycloak_url, grp.member_email, PASSWORD)


@pytest.fixture
def grp(platform: Any) -> Groupement:
    return groupement(platform, f"GRP-P{uuid.uuid4().hex[:6].upper()}", fresh_siren())


def test_the_portal_service_account_reads_a_page_in_one_call(
    platform: Any, grp: Groupement
) -> None:
    siren = platform.admin.get_group(grp.adherent_id)["name"]
    response = read(portal_admin(platform), grp.member_id, siren=siren)
    assert response.status_code == 200
    page = response.json()
    assert page["user"]["id"] == grp.member_id
    assert page["user"]["attributes"]["collecte"] == [f"{siren}/1"]
    [adherent] = [g for g in page["groups"] if g["name"] == siren]
    assert adherent["path"] == f"/{grp.code}/{siren}"
    assert adherent["attributes"]["principal.1"] == [grp.member_id]
    assert "default-roles-collecte" in page["realmRoles"]
    assert [m["id"] for m in page["members"]] == [grp.member_id]
    # Not a member of that adherent: no members, whoever asks.
    other = read(portal_admin(platform), grp.coordinator_id, siren=siren).json()
    assert "members" not in other
    assert "coordonnateur" in other["realmRoles"]


@pytest.mark.parametrize("who", ["member", "coordinator"])
def test_a_members_or_coordinators_token_is_refused(
    platform: Any, grp: Groupement, who: str
) -> None:
    api = admin_api_of(platform, grp, who)
    if who == "coordinator":
        # The coordinator may read this member by Keycloak's own endpoint…
        assert api.get_user(grp.member_id)["id"] == grp.member_id
    # …but not by the page endpoint, about the member or about themselves.
    for person_id in (grp.member_id, grp.coordinator_id, str(uuid.uuid4())):
        assert read(api, person_id).status_code == 403


def test_an_unknown_person_is_404(platform: Any) -> None:
    assert read(portal_admin(platform), str(uuid.uuid4())).status_code == 404


# --- POST …/collecte-pages/people/by-email: who has these addresses (the bulk import's read) --

BY_EMAIL = "admin/realms/collecte/collecte-pages/people/by-email"


def by_email(api: KeycloakAdmin, emails: list[str]) -> Any:
    return api.connection.raw_post(BY_EMAIL, data=json.dumps(emails))


def test_the_people_who_have_the_addresses_whatever_their_case(
    platform: Any, grp: Groupement
) -> None:
    unknown = f"personne-{uuid.uuid4().hex[:8]}@nulle-part.fr"
    asked = [grp.member_email.upper(), unknown, grp.coordinator_email]
    for api in (portal_admin(platform), platform.admin):  # the portal, the command line
        response = by_email(api, asked)
        assert response.status_code == 200
        found = {user["email"]: user for user in response.json()}
        assert set(found) == {grp.member_email, grp.coordinator_email}
        assert found[grp.member_email]["id"] == grp.member_id
        assert "collecte" in found[grp.member_email]["attributes"]  # in full, as GET /users


def test_more_than_a_thousand_addresses_at_once_are_refused(platform: Any) -> None:
    emails = [f"p{n}@exemple.fr" for n in range(1001)]
    assert by_email(portal_admin(platform), emails).status_code == 400
    assert by_email(portal_admin(platform), emails[:1000]).status_code == 200


@pytest.mark.parametrize("who", ["member", "coordinator"])
def test_whether_an_address_has_an_account_is_told_to_no_member_nor_coordinator(
    platform: Any, grp: Groupement, who: str
) -> None:
    assert by_email(admin_api_of(platform, grp, who), [grp.member_email]).status_code == 403


# --- POST …/collecte-pages/adherents/by-siren: which groupement holds these SIRENs (the import) --

BY_SIREN = "admin/realms/collecte/collecte-pages/adherents/by-siren"


def by_siren(api: KeycloakAdmin, names: list[str]) -> Any:
    return api.connection.raw_post(BY_SIREN, data=json.dumps(names))


def test_the_groupement_holding_each_siren(platform: Any, grp: Groupement) -> None:
    siren = platform.admin.get_group(grp.adherent_id)["name"]
    unknown = fresh_siren()
    for api in (portal_admin(platform), platform.admin):  # the portal, the command line
        response = by_siren(api, [siren, unknown, grp.code])
        assert response.status_code == 200
        # Children of top-level groups only: the groupement itself is no adherent; its
        # coordinators' marker /coordonnateurs/<code> is answered, the caller leaves it out.
        assert response.json() == {siren: grp.code, grp.code: "coordonnateurs"}


def test_more_than_a_thousand_sirens_at_once_are_refused(platform: Any) -> None:
    names = [f"{n:09d}" for n in range(1001)]
    assert by_siren(portal_admin(platform), names).status_code == 400
    assert by_siren(portal_admin(platform), names[:1000]).status_code == 200


@pytest.mark.parametrize("who", ["member", "coordinator"])
def test_which_groupement_holds_a_siren_is_told_to_no_member_nor_coordinator(
    platform: Any, grp: Groupement, who: str
) -> None:
    siren = platform.admin.get_group(grp.adherent_id)["name"]
    assert by_siren(admin_api_of(platform, grp, who), [siren]).status_code == 403
