"""Demo data for the dev run: one groupement, two adherents, staff, contacts to try, and the demo
application (registered with the product's command, `collecte_kc.applications`).

Contacts are seeded through the portal's own gateway, so the demo goes down the product's paths
(functions, principal, recorded invitations). Idempotent: what exists is left as it is, and an
invitation goes out only to a person created by this run, so restarting never floods the mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from keycloak import KeycloakAdmin

from collecte_kc.applications import Registration, application, register
from collecte_kc.coordinators import Coordinator, add_groupement
from collecte_kc.demo_client import BACKCHANNEL_PATH, CALLBACK_PATH, CLIENT_ID, NAME
from portal.core.domain import Change, ContactDetails, Function, Scope
from portal.core.keycloak import schema
from portal.core.keycloak.coordination import ensure_group
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.keycloak.provisioning import create_staff_member

GROUPEMENT = "GRP-DEMO"
GROUPEMENT_LABEL = "Groupement de commandes d'énergie — démonstration"
SEEDED_BY = "donnees-de-demo"


@dataclass(frozen=True)
class Adherent:
    siren: str
    raison_sociale: str
    lots: tuple[str, ...]


@dataclass(frozen=True)
class Staff:
    details: ContactDetails
    role: str


@dataclass(frozen=True)
class Contact:
    details: ContactDetails
    function: Function
    scopes: tuple[Scope, ...]


ADHERENTS = (
    Adherent("213500010", "Commune de Démoville", ("1", "2")),
    Adherent("253500011", "Syndicat intercommunal des eaux de Démoville", ("1",)),
)
COORDINATOR = Coordinator("coordination@groupement-demo.fr", "Claire", "Coordonnatrice")
STAFF = (
    Staff(
        ContactDetails("Support", "Sam", "support@collecte-demo.fr", None, None),
        schema.SUPPORT_ROLE,
    ),
)
CONTACTS = (
    Contact(
        ContactDetails("Dupont", "Marie", "marie.dupont@demoville.fr", "+33299000001", None),
        Function.COLLECTE,
        (Scope("213500010", "1"), Scope("213500010", "2")),
    ),
    Contact(
        ContactDetails("Technicien", "Jean", "jean.technicien@demoville.fr", None, "+33612345678"),
        Function.TECHNIQUE,
        (Scope("213500010", "1"),),
    ),
)


def _ensure_groups(admin: KeycloakAdmin) -> None:
    """The groupement and its adherents (before the coordinators' permissions, which list them)."""
    groupement = ensure_group(
        admin, GROUPEMENT, attributes={schema.GROUPEMENT_LABEL: [GROUPEMENT_LABEL]}
    )
    for adherent in ADHERENTS:
        ensure_group(
            admin,
            adherent.siren,
            parent=groupement,
            attributes={
                schema.COMPANY_NAME: [adherent.raison_sociale],
                schema.LOTS: list(adherent.lots),
            },
        )


def seed(admin: KeycloakAdmin, portal_url: str, keycloak_url: str) -> list[str]:
    """Create what is missing; return the e-mails invited by this run."""
    gateway = KeycloakGateway(admin)
    _ensure_groups(admin)
    # The coordinator comes the product's way: the one command that sets up a groupement.
    coordinator = add_groupement(admin, GROUPEMENT, GROUPEMENT_LABEL, COORDINATOR, keycloak_url)
    invited = [COORDINATOR.email] if coordinator.invited else []
    sign_in = f"{portal_url}/connexion"
    change = Change.now(SEEDED_BY, "données de démonstration")
    for staff in STAFF:
        if gateway.find_person_by_email(staff.details.email):
            continue
        person_id = create_staff_member(admin, staff.details, staff.role)
        gateway.invite(person_id, sign_in, change)
        invited.append(staff.details.email)
    for contact in CONTACTS:
        if gateway.find_person_by_email(contact.details.email):
            continue
        for scope in contact.scopes:
            person = gateway.add_functions(contact.details, [contact.function], scope, change)
            if contact.function is Function.COLLECTE:
                gateway.ensure_principal(scope, person.id)
        if contact.function is Function.COLLECTE:
            gateway.invite(person.id, sign_in, change)
            invited.append(contact.details.email)
    return invited


def register_demo_application(admin: KeycloakAdmin, app_url: str) -> Registration:
    """The demo application's client, as an application's team registers theirs (idempotent)."""
    base = app_url.rstrip("/")
    return register(
        admin,
        application(NAME, CLIENT_ID, [base + CALLBACK_PATH], [base + "/"], base + BACKCHANNEL_PATH),
    )
