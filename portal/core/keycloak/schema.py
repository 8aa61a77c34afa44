"""The realm's data model, named once: user and group attributes, group paths, realm roles,
required actions and client ids that the portal and the tooling read or write.

The same names live in the realm files (``realm-export.json``, ``keycloak/user-profile.json``)
and, for the extensions, in ``CollecteSchema`` and its neighbours in ``keycloak/providers``;
``tests/unit/core/keycloak/test_schema.py`` checks this module against both (the Java
constants read from the compiled classes). Anywhere else in product code, use these names,
never the strings.
"""

from __future__ import annotations

from typing import Final

REALM: Final = "collecte"

# --- users: identity and contact (user profile) ----------------------------------------------
PHONE_FIXED: Final = "telephoneFixe"
PHONE_MOBILE: Final = "telephoneMobile"

# --- users: the three functions, each a multivalued attribute of ``SIREN/lot`` ------------------
COLLECTION: Final = "collecte"
TECHNICAL: Final = "technique"
BILLING: Final = "facturation"
FUNCTIONS: Final = (COLLECTION, TECHNICAL, BILLING)

# --- users: records written by the portal only (``PORTAL_RECORDS`` in CollecteSchema.java) -----
REQUESTS: Final = "demandesCollecte"  # JSON records of collection-contact requests
REQUESTS_ON: Final = "demandeCollecteSur"  # their ``SIREN/lot`` values, for searching
PENDING_REQUEST: Final = "demandeCollecteEnAttente"  # set while one request waits for support
INVITATION_SENT: Final = "invitationEnvoyeeLe"  # epoch seconds of the last invitation sent
INVITATION_EXPIRES: Final = "invitationExpireLe"
LAST_CHANGE: Final = "derniereModification"  # who changed the record last, and when (JSON)
PORTAL_RECORDS: Final = (
    REQUESTS,
    REQUESTS_ON,
    PENDING_REQUEST,
    INVITATION_SENT,
    INVITATION_EXPIRES,
    LAST_CHANGE,
)

# --- users and groups: written by Keycloak's side ---------------------------------------------
REVISION: Final = "revision"  # bumped by the RevisionListener; a write sends the one it read
TERMS_ACCEPTED_VERSION: Final = "cguVersionAcceptee"  # written by our required action
TERMS_ACCEPTED_AT: Final = "terms_and_conditions"  # Keycloak's own acceptance timestamp

# --- groups -----------------------------------------------------------------------------------
# An adherent is the group ``/<groupement>/<SIREN>``; its lots and name are attributes, and
# ``principal.<lot>`` names the principal collection contact of each lot, written once.
LOTS: Final = "lots"
COMPANY_NAME: Final = "raisonSociale"
PRINCIPAL_PREFIX: Final = "principal."
# A groupement's coordinators are the members of ``/coordonnateurs/<groupement>``.
COORDINATORS_GROUP: Final = "coordonnateurs"
# A groupement is the top-level group ``/<code>``; its label is an attribute.
GROUPEMENT_LABEL: Final = "libelle"

# --- realm attributes -------------------------------------------------------------------------
TERMS_CURRENT_VERSION: Final = "cguVersion"  # the CGU version in force (provisioning)

# --- realm roles ------------------------------------------------------------------------------
STAFF_ROLE: Final = "equipe-plateforme"  # included in both roles below
SUPPORT_ROLE: Final = "support"
COORDINATOR_ROLE: Final = "coordonnateur"  # needs the marker group as well

# --- required actions -------------------------------------------------------------------------
UPDATE_PASSWORD: Final = "UPDATE_PASSWORD"  # noqa: S105 (a required action, not a secret)
TERMS_AND_CONDITIONS: Final = "TERMS_AND_CONDITIONS"
VERIFY_EMAIL: Final = "VERIFY_EMAIL"
INVITATION_ACTIONS: Final = (UPDATE_PASSWORD, TERMS_AND_CONDITIONS, VERIFY_EMAIL)

# --- clients ----------------------------------------------------------------------------------
PORTAL_CLIENT: Final = "collecte-portail"  # members and staff sign in to the portal
PORTAL_ADMIN_CLIENT: Final = "collecte-portail-admin"  # its service account calls the Admin API
# The client scope an application asks for to get the claims ``perimetres`` and ``version_cgu``.
PERIMETERS_SCOPE: Final = "perimetres-collecte"


def principal_attribute(lot: str) -> str:
    """The group attribute naming the principal collection contact of ``lot``."""
    return f"{PRINCIPAL_PREFIX}{lot}"


def adherent_path(groupement: str, siren: str) -> str:
    """The path of an adherent's group."""
    return f"/{groupement}/{siren}"


def coordinators_path(groupement: str) -> str:
    """The path of the group whose members coordinate ``groupement``."""
    return f"/{COORDINATORS_GROUP}/{groupement}"
