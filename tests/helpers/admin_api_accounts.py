"""The Admin API calls about one account and the realm that the support desk, the follow-up and
the invitations make, registered on the ``responses`` mock: a part of
:class:`tests.helpers.admin_api.AdminApi`, kept apart for length."""

from __future__ import annotations

import json
from typing import Any

import responses
from responses import matchers

from tests.helpers.admin_api_json import CGU_VERSION, PORTAL_ACCOUNT_ID, REALM_ID
from tests.helpers.settings import ADMIN_REALM_URL, ADMIN_USERS_URL


class AccountCalls:
    """One helper per call; ``kc`` is the test's ``responses`` mock."""

    kc: responses.RequestsMock

    def pending(self, people: list[dict[str, Any]]) -> None:
        """GET users?q=demandeCollecteEnAttente:oui: support's queue."""
        query = {"q": "demandeCollecteEnAttente:oui", "first": "0", "max": "500"}
        self.kc.get(ADMIN_USERS_URL, json=people, match=[matchers.query_param_matcher(query)])

    def credentials(self, person_id: str, password_created: int | None = None) -> None:
        """GET users/<id>/credentials; ``password_created``: epoch milliseconds, or no password."""
        found = (
            [{"id": "c-1", "type": "password", "createdDate": password_created}]
            if password_created is not None
            else []
        )
        self.kc.get(f"{ADMIN_USERS_URL}/{person_id}/credentials", json=found)

    def lock(self, person_id: str, locked: bool = False) -> None:
        """GET attack-detection/brute-force/users/<id>."""
        status = {"numFailures": 5 if locked else 0, "disabled": locked, "lastFailure": 0}
        self.kc.get(
            f"{ADMIN_REALM_URL}/attack-detection/brute-force/users/{person_id}", json=status
        )

    def accept_unlock(self, person_id: str) -> None:
        url = f"{ADMIN_REALM_URL}/attack-detection/brute-force/users/{person_id}"
        self.kc.delete(url, status=204)

    def logins(self, person_id: str, *times: int) -> None:
        """GET events?user=<id>&type=LOGIN&first=0&max=1 (``times``: epoch milliseconds)."""
        query = {"user": person_id, "type": "LOGIN", "first": "0", "max": "1"}
        events = [{"time": time, "type": "LOGIN", "userId": person_id} for time in times]
        self.kc.get(
            f"{ADMIN_REALM_URL}/events", json=events, match=[matchers.query_param_matcher(query)]
        )

    def admin_events(self, person_id: str, events: list[dict[str, Any]]) -> None:
        """GET admin-events?resourcePath=users/<id>*: what was done to the person."""
        query = {"resourcePath": f"users/{person_id}*", "first": "0", "max": "100"}
        self.kc.get(
            f"{ADMIN_REALM_URL}/admin-events",
            json=events,
            match=[matchers.query_param_matcher(query)],
        )

    # --- who the history names (portal.core.keycloak.support_admin) -------------------------

    def portal_account(self) -> None:
        """What the gateway reads once to recognise its own calls in admin events: the realm's
        id and the service-account user of the admin client, found by its username."""
        self.kc.get(ADMIN_REALM_URL, json={"id": REALM_ID, "realm": "collecte"})
        username = "service-account-collecte-portail-admin"
        query = {"username": username, "exact": "true", "first": "0", "max": "2"}
        account = {"id": PORTAL_ACCOUNT_ID, "username": username, "enabled": True}
        self.kc.get(ADMIN_USERS_URL, json=[account], match=[matchers.query_param_matcher(query)])

    def realm(self, lifespan: int = 7 * 24 * 3600, cgu_version: str | None = CGU_VERSION) -> None:
        """GET the realm: how long an invitation link stays valid, the CGU version in force."""
        attributes = {"cguVersion": cgu_version} if cgu_version else {}
        self.kc.get(
            ADMIN_REALM_URL,
            json={
                "realm": "collecte",
                "actionTokenGeneratedByAdminLifespan": lifespan,
                "attributes": attributes,
            },
        )

    def accept_invitation(self, person_id: str, status: int = 204) -> None:
        """PUT users/<id>/execute-actions-email; Keycloak answers 500 when its SMTP fails."""
        body = (
            ""
            if status == 204
            else json.dumps({"errorMessage": "Failed to send execute actions email"})
        )
        self.kc.put(
            f"{ADMIN_USERS_URL}/{person_id}/execute-actions-email", status=status, body=body
        )
