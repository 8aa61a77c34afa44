"""Default configuration of the portal.

Loaded first by :func:`portal.create_app`, then overridden by ``COLLECTE_*``
environment variables, then by the mapping given to ``create_app`` (tests).

There are deliberately no defaults for ``SECRET_KEY``, ``OIDC_CLIENT_SECRET``
and ``ADMIN_CLIENT_SECRET``: the application refuses to start without them.
"""

# Keycloak: base URL (without "/realms/..."), realm and clients.
KEYCLOAK_URL = "http://localhost:8080"
KEYCLOAK_REALM = "collecte"
# Confidential client used to sign users in (authorization code + PKCE).
OIDC_CLIENT_ID = "collecte-portail"
# Confidential client whose service account calls the Admin API (client credentials).
ADMIN_CLIENT_ID = "collecte-portail-admin"
# The portal's public address (scheme, host, port; no path): every absolute URL it writes (mail
# links, OpenID Connect redirect_uri, invitations) starts with it, and requests for any other
# host get a 400 page (TRUSTED_HOSTS is derived from it unless set). Keycloak's realm import and
# the import command line read the same variable, COLLECTE_PORTAL_URL.
PORTAL_URL = "http://localhost:5000"
# Seconds to wait for Keycloak (connect and read) before giving up.
KEYCLOAK_TIMEOUT = 5

# Largest request body, in bytes: Flask reads an upload into memory before any form validator
# runs, so this is what bounds it (413 above). The import's form allows 5 MB of file; the rest
# is room for the multipart envelope and the other fields.
MAX_CONTENT_LENGTH = 6 * 1024 * 1024

# Session cookie. Development over plain HTTP sets COLLECTE_SESSION_COOKIE_SECURE=false.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Mail the portal sends itself (support notifications). Keycloak has its own SMTP settings.
SMTP_HOST = "localhost"
SMTP_PORT = 1025
MAIL_FROM = "ne-pas-repondre@collecte.localhost"
# Where requests for a new collection contact are announced.
SUPPORT_EMAIL = "support@collecte.localhost"
