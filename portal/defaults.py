"""Default configuration of the portal.

Loaded first by :func:`portal.create_app`, then overridden by ``COLLECTE_*``
environment variables, then by the mapping given to ``create_app`` (tests).

There are deliberately no defaults for ``SECRET_KEY``, ``OIDC_CLIENT_SECRET``
and ``ADMIN_CLIENT_SECRET``: the application refuses to start without them.
"""

from portal.core.keycloak import schema

# Keycloak: base URL (without "/realms/..."), realm and clients.
KEYCLOAK_URL = "http://localhost:8080"
KEYCLOAK_REALM = schema.REALM
# Confidential client used to sign users in (authorization code + PKCE).
OIDC_CLIENT_ID = schema.PORTAL_CLIENT
# Confidential client whose service account calls the Admin API (client credentials).
ADMIN_CLIENT_ID = schema.PORTAL_ADMIN_CLIENT
# Seconds to wait for Keycloak (connect and read) before giving up.
KEYCLOAK_TIMEOUT = 5

# Page reads (a person, their groups, roles and adherent's members; the groupements) are kept in
# each portal process until Keycloak or the portal changes anything in the realm (see
# portal.core.keycloak.read_cache): this is only a safety net, how long at the most an entry is
# used should a change notification from Keycloak be lost (Keycloak logs it). 0: no cache.
PAGE_CACHE_SECONDS = 60

# Largest request body, in bytes: Flask reads an upload into memory before any form validator
# runs, so this is what bounds it (413 above). The import's form allows 5 MB of file; the rest
# is room for the multipart envelope and the other fields.
MAX_CONTENT_LENGTH = 6 * 1024 * 1024

# The portal's public address (scheme, host, port; no path), as users and Keycloak reach it;
# required: the portal does not start without it (COLLECTE_PORTAL_URL, also read by Keycloak's
# realm import and the import command line). Every absolute URL the portal writes (mail links,
# OpenID Connect redirect_uri, invitations) starts with it, and requests for any other host get
# a 400 page (TRUSTED_HOSTS is derived from it unless set). Its scheme decides the session
# cookie: https gives a Secure cookie named "__Host-collecte-session" and HSTS; http (dev run,
# tests) a plain "collecte-session".
PORTAL_URL = None

# Session cookie (the session itself is kept on the server, see portal.web.sessions).
# Development over plain HTTP sets COLLECTE_SESSION_COOKIE_SECURE=false.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Lifetimes of a portal session, in seconds, the realm's own (ssoSessionIdleTimeout and
# ssoSessionMaxLifespan in realm-export.json): ended after 30 minutes without a request,
# and 10 hours after sign-in whatever happens.
SESSION_IDLE_TIMEOUT = 1800
SESSION_MAX_LIFETIME = 36000
# Where sessions are kept: a Redis URL ("redis://host:6379/0") shared by several portal hosts;
# unset, a folder of files on this host (SESSION_FILE_DIR, default: the temporary folder's
# "collecte-portail-sessions"), enough for one host (the dev run's workers share it).
SESSION_REDIS_URL = None
SESSION_FILE_DIR = None

# The bulk imports' task queue (portal.web.task_queue; its consumer: python -m portal.worker):
# a Redis URL shared by several portal hosts; unset, an SQLite file on this host (TASKS_FILE,
# default: collecte-taches.sqlite3 in SESSION_FILE_DIR, else the temporary folder). Immediate
# mode (TASKS_IMMEDIATE) runs a task inside the request that enqueues it: for the tests only.
TASKS_REDIS_URL = None
TASKS_FILE = None
TASKS_IMMEDIATE = False
# The consumer in this process's threads rather than `python -m portal.worker` beside it: for a
# portal served from a test's or benchmark's own process (collecte_kc.sandbox) only.
TASKS_IN_PROCESS = False
# Every minute, the consumers mail the notice of a new CGU version to whoever must accept it
# (portal.web.notices), once per person and version.
TERMS_NOTICES = True
# A running import whose progress has not moved for this long (seconds) is taken as interrupted
# (its consumer died) and resumed by another consumer.
IMPORT_STALE_SECONDS = 120

# Mail the portal sends itself (support notifications). Keycloak has its own SMTP settings.
SMTP_HOST = "localhost"
SMTP_PORT = 1025
# Production relays ask for STARTTLS (COLLECTE_SMTP_STARTTLS=true, the certificate checked) and
# an account (COLLECTE_SMTP_USER, COLLECTE_SMTP_PASSWORD, read verbatim like the secrets).
SMTP_STARTTLS = False
SMTP_USER = None
SMTP_PASSWORD = None
MAIL_FROM = "ne-pas-repondre@collecte.localhost"
# Where requests for a new collection contact are announced.
SUPPORT_EMAIL = "support@collecte.localhost"

# Abuse limits (portal.core.abuse_limits), each « N per <window> » in the notation of the `limits`
# library, counted over a moving window (at most N in any such window), successful actions
# only. Where the counters live: "memory://" counts in each process (dev run, tests; with
# several workers or hosts each counts apart); a shared store, e.g.
# COLLECTE_RATE_LIMIT_STORAGE_URI=redis://redis-host:6379/1, makes every portal host count
# together (needs the `redis` extra).
RATE_LIMIT_STORAGE_URI = "memory://"
# Requests for a new collection contact: per member (the signed-in person)...
RATE_LIMIT_REQUESTS_PER_MEMBER = "10 per 24 hours"
# ...and per proposed e-mail, whoever files them.
RATE_LIMIT_REQUESTS_PER_TARGET = "3 per 24 hours"
# Invitations sent again (support's « Renvoyer l'invitation », the coordinators' follow-up, a
# grant that invites): per person invited, all actors together...
RATE_LIMIT_REINVITES_PER_TARGET = "3 per 24 hours"
# ...and re-sends per actor (a support agent or a coordinator): room for one re-send to every
# non-activated member of a large groupement at once (the per-person limit already keeps any
# one mailbox from being flooded); a runaway script or a stolen staff session stops there.
RATE_LIMIT_REINVITES_PER_ACTOR = "200 per hour"
# « Je ne parviens pas à me connecter » (public): per typed address, whether known or not (one
# mail an hour at most to any mailbox)...
RATE_LIMIT_SELF_HELP_PER_ADDRESS = "3 per hour"
# ...and per client (its IP address, see FORWARDED_FOR_PROXIES): room for a shared office
# connection, not for a script walking through a list of addresses.
RATE_LIMIT_SELF_HELP_PER_CLIENT = "20 per hour"
# « Demande sans compte » (public form): per typed address, and per client — each one may
# land in support’s queue, so fewer than the diagnosis, which only mails a known address.
RATE_LIMIT_ACCOUNTLESS_PER_ADDRESS = "2 per day"
RATE_LIMIT_ACCOUNTLESS_PER_CLIENT = "5 per hour"

# How many reverse proxies stand in front of the portal (nginx: 1): the client's address is
# then read from their X-Forwarded-For (werkzeug's ProxyFix). 0: the connection's own address.
FORWARDED_FOR_PROXIES = 0
