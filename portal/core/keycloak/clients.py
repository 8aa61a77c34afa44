"""Applications' OpenID Connect clients in the realm: the representation kept in Keycloak and its
idempotent registration (for `python -m collecte_kc.applications`, which checks the inputs).

The client: confidential, authorization code flow only with PKCE S256, exact redirect URIs,
back-channel logout with the session id, an audience mapper naming the application, the default
scopes `basic`, `profile`, `email` (with the realm's other default ones) and the optional scope
`perimetres-collecte` only, no role in its tokens. A client of the same id not made by the
registration (the portal's, Keycloak's own) is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# From its module rather than from "keycloak": the repository's own keycloak/ folder (themes)
# makes ruff's isort take a bare "keycloak" for first-party.
from keycloak.keycloak_admin import KeycloakAdmin

from portal.core.keycloak.schema import PERIMETERS_SCOPE, REALM

#: Default client scopes every application gets, besides the realm's default ones.
DEFAULT_SCOPES = ("basic", "profile", "email")
#: Client attribute marking a client made by the registration: only those are ever updated.
MARKER_ATTRIBUTE = "collecte.application"
AUDIENCE_MAPPER = "audience de l'application"
#: Keycloak keeps the post-logout redirect URIs in one attribute, joined by this.
URI_SEPARATOR = "##"


@dataclass(frozen=True)
class Application:
    """What the application's team gives, checked (`collecte_kc.application_client`)."""

    name: str
    client_id: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_url: str | None = None


@dataclass
class Registration:
    """What a run did: `created`, or the list of what it changed (empty: nothing)."""

    client_id: str
    uuid: str
    created: bool
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class ForeignClient(ValueError):
    """The client id is taken by a client the registration did not make (French message)."""


# --- the client Keycloak should hold -----------------------------------------------------------


def wanted_client(app: Application) -> dict[str, Any]:
    """The client representation the registration keeps (fields it does not name are left)."""
    return {
        "clientId": app.client_id,
        "name": app.name,
        "description": "Application de collecte, enregistrée par collecte_kc.applications.",
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "bearerOnly": False,
        "clientAuthenticatorType": "client-secret",
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "consentRequired": False,
        "frontchannelLogout": False,
        "fullScopeAllowed": False,
        "redirectUris": list(app.redirect_uris),
        "webOrigins": [],
        "attributes": {
            MARKER_ATTRIBUTE: "true",
            "pkce.code.challenge.method": "S256",
            "post.logout.redirect.uris": URI_SEPARATOR.join(app.post_logout_redirect_uris),
            "backchannel.logout.url": app.backchannel_logout_url or "",
            "backchannel.logout.session.required": "true",
            "backchannel.logout.revoke.offline.tokens": "false",
            "oauth2.device.authorization.grant.enabled": "false",
            "oidc.ciba.grant.enabled": "false",
            "standard.token.exchange.enabled": "false",
            "use.refresh.tokens": "true",
        },
    }


def audience_mapper(client_id: str) -> dict[str, Any]:
    return {
        "name": AUDIENCE_MAPPER,
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {
            "included.client.audience": client_id,
            "access.token.claim": "true",
            "id.token.claim": "true",
            "introspection.token.claim": "true",
        },
    }


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, list):
        return sorted(current or []) == sorted(wanted)
    return bool(current == wanted)


def differences(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Names of the fields (and `attributes.<name>`) where the client differs. An absent
    attribute counts as empty: Keycloak drops some empty ones."""
    changed = [
        key
        for key, value in wanted.items()
        if key != "attributes" and not _same(current.get(key), value)
    ]
    attributes = current.get("attributes") or {}
    changed += [
        f"attributes.{key}"
        for key, value in wanted["attributes"].items()
        if attributes.get(key, "") != value
    ]
    return changed


# --- writes over the Admin API -----------------------------------------------------------------


def register(admin: KeycloakAdmin, app: Application) -> Registration:
    """Create or update the application's client; idempotent. Raises ForeignClient when the
    client id belongs to a client not made here (the portal's, Keycloak's)."""
    wanted = wanted_client(app)
    client_uuid = admin.get_client_id(app.client_id)
    if client_uuid is None:
        client_uuid = str(admin.create_client(wanted))
        outcome = Registration(app.client_id, client_uuid, created=True)
    else:
        current = admin.get_client(client_uuid)
        if (current.get("attributes") or {}).get(MARKER_ATTRIBUTE) != "true":
            raise ForeignClient(
                f"Le client « {app.client_id} » existe déjà et n'a pas été enregistré par cette "
                "commande (client du portail ou de Keycloak) : choisissez un autre identifiant."
            )
        outcome = Registration(app.client_id, str(client_uuid), created=False)
        outcome.changes = differences(current, wanted)
        if outcome.changes:
            payload = {k: v for k, v in current.items() if k not in ("protocolMappers",)}
            payload.update({k: v for k, v in wanted.items() if k != "attributes"})
            payload["attributes"] = {**(current.get("attributes") or {}), **wanted["attributes"]}
            admin.update_client(outcome.uuid, payload)
    _ensure_audience(admin, outcome)
    _ensure_scopes(admin, outcome)
    if app.backchannel_logout_url is None:
        outcome.warnings.append(
            "Sans --deconnexion-canal-arriere, la session de l'application survit à la fin de "
            "la session Keycloak jusqu'au prochain renouvellement de ses jetons (5 minutes)."
        )
    return outcome


def _ensure_audience(admin: KeycloakAdmin, outcome: Registration) -> None:
    wanted = audience_mapper(outcome.client_id)
    mappers = admin.get_mappers_from_client(outcome.uuid)
    current = next((m for m in mappers if m.get("name") == AUDIENCE_MAPPER), None)
    if current is None:
        admin.add_mapper_to_client(outcome.uuid, wanted)
        if not outcome.created:
            outcome.changes.append("mappeur d'audience ajouté")
    elif current.get("protocolMapper") != wanted["protocolMapper"] or any(
        (current.get("config") or {}).get(k) != v for k, v in wanted["config"].items()
    ):
        admin.update_client_mapper(outcome.uuid, current["id"], {**wanted, "id": current["id"]})
        outcome.changes.append("mappeur d'audience corrigé")


def _ensure_scopes(admin: KeycloakAdmin, outcome: Registration) -> None:
    """Default: the realm's default scopes plus DEFAULT_SCOPES; optional: PERIMETERS_SCOPE only
    (when the realm has it). Anything else attached to the client is detached."""
    # The realm's default scopes include SAML ones (role_list…), which an OIDC client ignores.
    by_name = {
        scope["name"]: scope["id"]
        for scope in admin.get_client_scopes()
        if scope.get("protocol", "openid-connect") == "openid-connect"
    }
    realm_defaults = {scope["name"] for scope in admin.get_default_default_client_scopes()}
    default = {n for n in (*realm_defaults, *DEFAULT_SCOPES) if n in by_name} - {PERIMETERS_SCOPE}
    optional = {PERIMETERS_SCOPE} if PERIMETERS_SCOPE in by_name else set()
    if not optional:
        outcome.warnings.append(
            f"La portée « {PERIMETERS_SCOPE} » n'existe pas dans le realm : l'application ne "
            "recevra ni les SIREN/lots ni la version des CGU. Relancez la commande une fois "
            "l'extension de Keycloak déployée."
        )
    kinds = (
        ("défaut", default, admin.get_client_default_client_scopes),
        ("facultative", optional, admin.get_client_optional_client_scopes),
    )
    for kind, wanted, read in kinds:
        held = {scope["name"]: scope["id"] for scope in read(outcome.uuid)}
        for name in sorted(set(held) - wanted):
            if kind == "défaut":
                admin.delete_client_default_client_scope(outcome.uuid, held[name])
            else:
                admin.delete_client_optional_client_scope(outcome.uuid, held[name])
            outcome.changes.append(f"portée {kind} retirée : {name}")
        for name in sorted(wanted - set(held)):
            payload = {"realm": REALM, "client": outcome.uuid, "clientScopeId": by_name[name]}
            if kind == "défaut":
                admin.add_client_default_client_scope(outcome.uuid, by_name[name], payload)
            else:
                admin.add_client_optional_client_scope(outcome.uuid, by_name[name], payload)
            outcome.changes.append(f"portée {kind} ajoutée : {name}")
    if outcome.created:
        outcome.changes = []


def client_secret(admin: KeycloakAdmin, client_id: str, renew: bool = False) -> str | None:
    """The client's secret (a new one when `renew`), or None when the realm has no such client."""
    client_uuid = admin.get_client_id(client_id)
    if client_uuid is None:
        return None
    answer = (
        admin.generate_client_secrets(client_uuid)
        if renew
        else admin.get_client_secrets(client_uuid)
    )
    return str(answer["value"])
