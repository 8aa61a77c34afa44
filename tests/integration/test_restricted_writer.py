"""The second line behind coordinators: Keycloak's user-profile validators (RestrictedWriter).

Keycloak's permissions already refuse (403) anyone who is not a coordinator of the groupement.
The validators must refuse on their own too: a caller who holds a permission on the members
(given by mistake, or by a future policy) and the marker group `/coordonnateurs/<code>`, but not
the realm role `coordonnateur`, must not hand out or withdraw collection functions. Tested against
the real Keycloak with the caller's own token, obtained through the login form.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from keycloak.exceptions import KeycloakError

from portal.core.keycloak.admin_permissions import (
    ensure_admin_permissions,
    ensure_policy,
    find_by_name,
)
from portal.core.keycloak.coordination import coordinators_policy
from tests.helpers.coordination import PASSWORD, add_colleague, groupement
from tests.helpers.realm_data import fresh_siren
from tests.helpers.signin import admin_api_as

REFUSAL_TO_REMOVE = "cette fonction relève d’un autre groupement"


def _marker_only_caller_with_a_permission(platform: Any) -> tuple[Any, str, str]:
    """A former coordinator: still in the marker group, without the role `coordonnateur`, whose
    groupement's permission wrongly no longer asks for the role, and with a collection function
    there so that he may sign in. Returns his Admin API, the adherent's SIREN and a colleague's
    id (a member who is not the principal)."""
    code, siren = f"GRP-RW-{uuid.uuid4().hex[:6].upper()}", fresh_siren()
    made = groupement(platform, code, siren)
    admin = platform.admin
    person = admin.get_user(made.coordinator_id)
    attributes = {"collecte": [f"{siren}/1"], "revision": person["attributes"]["revision"]}
    admin.update_user(made.coordinator_id, {**person, "attributes": attributes})
    admin.group_user_add(made.coordinator_id, made.adherent_id)
    admin.delete_realm_roles_of_user(made.coordinator_id, [admin.get_realm_role("coordonnateur")])
    marker = admin.get_group_by_path(f"/coordonnateurs/{code}")
    assert marker["id"] in {g["id"] for g in admin.get_user_groups(made.coordinator_id)}

    # The groupement's permission granted to the marker group alone, no longer to « marker
    # group AND role »: the misconfiguration the validators must survive.
    client_uuid = ensure_admin_permissions(admin)
    marker_policy = find_by_name(admin, client_uuid, f"coordonnateurs {code}")
    assert marker_policy is not None
    ensure_policy(
        admin,
        client_uuid,
        "aggregate",
        {
            "name": coordinators_policy(code),
            "description": "Test : groupe marqueur seul, sans le rôle.",
            "logic": "POSITIVE",
            "decisionStrategy": "UNANIMOUS",
            "policies": [marker_policy["id"]],
        },
    )
    colleague = add_colleague(admin, code, siren)
    caller = admin_api_as(admin, platform.keycloak_url, made.coordinator_email, PASSWORD)
    return caller, siren, colleague


def test_without_the_coordinator_role_the_validators_refuse_even_with_a_permission(platform):
    caller, siren, colleague = _marker_only_caller_with_a_permission(platform)
    # The permission is real: Keycloak lets him read and edit the colleague's name ...
    seen = caller.get_user(colleague)
    caller.update_user(colleague, {**seen, "firstName": "Noé"})
    renamed = platform.admin.get_user(colleague)
    assert renamed["firstName"] == "Noé"

    # ... but the validators refuse the function change: no role, no groupement of his own.
    attributes = {**renamed["attributes"], "collecte": []}
    with pytest.raises(KeycloakError) as refused:
        caller.update_user(colleague, {**renamed, "attributes": attributes})
    assert refused.value.response_code == 400, refused.value
    assert REFUSAL_TO_REMOVE in refused.value.response_body.decode("utf-8"), refused.value
    assert platform.admin.get_user(colleague)["attributes"]["collecte"] == [f"{siren}/1"]
