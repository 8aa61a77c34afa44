"""The fake Keycloak's addresses (OIDC and Admin API) and the portal's test configuration."""

from __future__ import annotations

from typing import Any

KEYCLOAK_URL = "http://keycloak.test"
ISSUER = f"{KEYCLOAK_URL}/realms/collecte"
DISCOVERY_URL = f"{ISSUER}/.well-known/openid-configuration"
OIDC_BASE = f"{ISSUER}/protocol/openid-connect"
AUTHORIZATION_ENDPOINT = f"{OIDC_BASE}/auth"
TOKEN_ENDPOINT = f"{OIDC_BASE}/token"
JWKS_URI = f"{OIDC_BASE}/certs"
END_SESSION_ENDPOINT = f"{OIDC_BASE}/logout"
ADMIN_REALM_URL = f"{KEYCLOAK_URL}/admin/realms/collecte"
ADMIN_USERS_URL = f"{ADMIN_REALM_URL}/users"
ADMIN_GROUPS_URL = f"{ADMIN_REALM_URL}/groups"
#: Where the portal writes a group: the conditional update of our Keycloak extension.
GROUP_WRITES_URL = f"{ADMIN_REALM_URL}/collecte-revisions/groups"

DISCOVERY: dict[str, Any] = {
    "issuer": ISSUER,
    "authorization_endpoint": AUTHORIZATION_ENDPOINT,
    "token_endpoint": TOKEN_ENDPOINT,
    "userinfo_endpoint": f"{OIDC_BASE}/userinfo",
    "end_session_endpoint": END_SESSION_ENDPOINT,
    "jwks_uri": JWKS_URI,
    "response_types_supported": ["code"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "code_challenge_methods_supported": ["plain", "S256"],
}

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "OIDC_CLIENT_SECRET": "test-oidc-client-secret",
    "ADMIN_CLIENT_SECRET": "test-admin-client-secret",
    "KEYCLOAK_URL": KEYCLOAK_URL,
    # The test client's own host: every absolute URL is http://localhost/...
    "PORTAL_URL": "http://localhost",
    # Import jobs run inside the request that enqueues them, in memory (no consumer).
    "TASKS_IMMEDIATE": True,
}
