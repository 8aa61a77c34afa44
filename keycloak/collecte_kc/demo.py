"""Demo data for the dev run: one groupement, two adherents, staff, and contacts to try.

Idempotent: what exists is left as it is, and an invitation goes out only to a person created
by this run, so restarting the platform never floods the mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakGetError

PORTAL_CLIENT_ID = "collecte-portail"
INVITATION_ACTIONS = ["UPDATE_PASSWORD", "TERMS_AND_CONDITIONS", "VERIFY_EMAIL"]
GROUPEMENT = "GRP-DEMO"
GROUPEMENT_LABEL = "Groupement de commandes d'énergie — démonstration"


@dataclass(frozen=True)
class Adherent:
    siren: str
    raison_sociale: str
    lots: tuple[str, ...]


@dataclass(frozen=True)
class DemoPerson:
    email: str
    first_name: str
    last_name: str
    attributes: dict[str, list[str]] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    invite: bool = False


ADHERENTS = (
    Adherent("213500010", "Commune de Démoville", ("1", "2")),
    Adherent("253500011", "Syndicat intercommunal des eaux de Démoville", ("1",)),
)
PEOPLE = (
    DemoPerson(
        "coordination@groupement-demo.fr",
        "Claire",
        "Coordonnatrice",
        roles=("coordonnateur",),
        invite=True,
    ),
    DemoPerson("support@collecte-demo.fr", "Sam", "Support", roles=("support",), invite=True),
    DemoPerson(
        "marie.dupont@demoville.fr",
        "Marie",
        "Dupont",
        attributes={"collecte": ["213500010/1", "213500010/2"], "telephoneFixe": ["+33299000001"]},
        invite=True,
    ),
    DemoPerson(
        "jean.technicien@demoville.fr",
        "Jean",
        "Technicien",
        attributes={"technique": ["213500010/1"], "telephoneMobile": ["+33612345678"]},
    ),
)


def _group(admin: KeycloakAdmin, path: str) -> dict[str, Any] | None:
    try:
        return dict(admin.get_group_by_path(path))
    except KeycloakGetError as error:
        if error.response_code == 404:
            return None
        raise


def _ensure_groups(admin: KeycloakAdmin) -> dict[str, str]:
    """Create the groupement and adherent groups if missing; return SIREN → group id."""
    groupement = _group(admin, f"/{GROUPEMENT}")
    if groupement is None:
        admin.create_group({"name": GROUPEMENT, "attributes": {"libelle": [GROUPEMENT_LABEL]}})
        groupement = admin.get_group_by_path(f"/{GROUPEMENT}")
    ids = {}
    for adherent in ADHERENTS:
        path = f"/{GROUPEMENT}/{adherent.siren}"
        group = _group(admin, path)
        if group is None:
            admin.create_group(
                {
                    "name": adherent.siren,
                    "attributes": {
                        "raisonSociale": [adherent.raison_sociale],
                        "lots": list(adherent.lots),
                    },
                },
                parent=groupement["id"],
            )
            group = admin.get_group_by_path(path)
        ids[adherent.siren] = group["id"]
    return ids


def seed(admin: KeycloakAdmin, portal_url: str) -> list[str]:
    """Create what is missing; return the e-mails invited by this run."""
    adherent_groups = _ensure_groups(admin)
    groupement_id = admin.get_group_by_path(f"/{GROUPEMENT}")["id"]
    invited = []
    for person in PEOPLE:
        if admin.get_user_id(person.email):
            continue
        user_id = admin.create_user(
            {
                "email": person.email,
                "firstName": person.first_name,
                "lastName": person.last_name,
                "enabled": True,
                "attributes": person.attributes,
            }
        )
        sirens = {
            value.split("/")[0]
            for values in person.attributes.values()
            for value in values
            if "/" in value
        }
        for siren in sirens:
            admin.group_user_add(user_id, adherent_groups[siren])
        if person.roles:
            admin.group_user_add(user_id, groupement_id)
            admin.assign_realm_roles(user_id, [admin.get_realm_role(role) for role in person.roles])
        for pair in person.attributes.get("collecte", []):
            siren, lot = pair.split("/")
            group = admin.get_group(adherent_groups[siren])
            attributes = group.get("attributes", {})
            # The first collection contact of a SIREN+lot is its principal, for good.
            attributes.setdefault(f"principal.{lot}", [user_id])
            admin.update_group(adherent_groups[siren], {**group, "attributes": attributes})
        if person.invite:
            admin.send_update_account(
                user_id=user_id,
                payload=INVITATION_ACTIONS,
                client_id=PORTAL_CLIENT_ID,
                redirect_uri=f"{portal_url}/connexion",
            )
            invited.append(person.email)
    return invited
