"""The realm's own settings the portal reads: the invitation lifespan, the CGU version in force,
the default required actions, and the portal's service account as admin events name it."""

from __future__ import annotations

from typing import Any

from portal.core.keycloak import schema, support_admin
from portal.core.keycloak.connection import Connection, keycloak_errors
from portal.core.keycloak.users import Users

DEFAULT_INVITATION_LIFESPAN = 7 * 24 * 3600


class Realm:
    def __init__(self, connection: Connection, users: Users) -> None:
        self._kc = connection
        self._users = users
        # The portal's caller in admin events, read once then kept. Threads may race to read
        # it first: both read the same two ids, and assigning a reference is atomic.
        self._portal_account: support_admin.PortalAccount | None = None

    def representation(self) -> dict[str, Any]:
        with keycloak_errors():
            return dict(self._kc.admin.get_realm(self._kc.realm))

    def invitation_lifespan(self) -> int:
        """Seconds an invitation link stays valid: the realm's setting for admin-sent links."""
        realm = self.representation()
        return int(realm.get("actionTokenGeneratedByAdminLifespan") or DEFAULT_INVITATION_LIFESPAN)

    def current_terms_version(self) -> str | None:
        """The CGU version in force: the realm attribute the provisioning writes."""
        attributes = self.representation().get("attributes") or {}
        version = str(attributes.get(schema.TERMS_CURRENT_VERSION) or "").strip()
        return version or None

    def default_required_actions(self) -> list[str]:
        """What Keycloak asks of any new person (TERMS_AND_CONDITIONS here): the partial import,
        like any import, does not apply the realm's default actions by itself."""
        actions = self._kc.get_json("authentication/required-actions")
        return [str(a["alias"]) for a in actions if a.get("enabled") and a.get("defaultAction")]

    def portal_caller(self) -> support_admin.PortalAccount:
        """The portal's own caller in admin events: the realm's id and the id of the admin
        client's service-account user."""
        if self._portal_account is None:
            client_id = str(self._kc.admin.connection.client_id)
            realm_id = str(self.representation()["id"])
            account = self._users.account_id(support_admin.service_account_username(client_id))
            self._portal_account = support_admin.PortalAccount(realm_id, account)
        return self._portal_account
