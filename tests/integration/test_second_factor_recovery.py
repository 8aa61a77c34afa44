"""A staff member's lost device, as the platform admin resets it: the OTP credential removed in
the admin console (the Admin API call the console makes), the next sign-in enrols a new app,
and the removal is in the admin events with who did it."""

from __future__ import annotations

from typing import Any

from tests.helpers.second_factor import forget, is_enrolled
from tests.helpers.signin import shared_client, sign_in

PASSWORD = "Personnel-Essai-2026!"


def otp_credentials(platform: Any, user_id: str) -> list[dict[str, Any]]:
    return [c for c in platform.admin.get_credentials(user_id) if c["type"] == "otp"]


def test_a_lost_device_is_reset_by_an_admin_and_enrolled_again(platform, activated_person):
    email = activated_person(PASSWORD, first_name="Sam", last_name="Support")
    user_id = platform.admin.get_users({"email": email, "exact": True})[0]["id"]
    platform.admin.assign_realm_roles(user_id, [platform.admin.get_realm_role("support")])
    client = shared_client(platform.admin, platform.keycloak_url)

    sign_in(platform.keycloak_url, client, email, PASSWORD)  # first sign-in: enrolment
    assert is_enrolled(email)
    [lost] = otp_credentials(platform, user_id)

    platform.admin.delete_credential(user_id, lost["id"])
    forget(email)
    removal = [
        event
        for event in platform.admin.get_admin_events({"resourceTypes": "USER", "max": 100})
        if event.get("resourcePath") == f"users/{user_id}/credentials/{lost['id']}"
    ]
    # Keycloak 26 files a credential removal as an ACTION on the credential's path.
    assert [event["operationType"] for event in removal] == ["ACTION"]
    assert removal[0]["authDetails"]["userId"]  # who removed it

    sign_in(platform.keycloak_url, client, email, PASSWORD)  # enrols a new app
    [renewed] = otp_credentials(platform, user_id)
    assert renewed["id"] != lost["id"] and is_enrolled(email)
