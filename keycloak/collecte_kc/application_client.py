"""What an application's client is: the inputs of `collecte_kc.applications`, validated (exact
redirect URIs, French messages), and the client representation the command keeps in Keycloak."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from collecte_kc.coordinators import InvalidArgument, validate_text

#: The realm's client scope carrying `perimetres` and `version_cgu` (a Keycloak extension).
PERIMETERS_SCOPE = "perimetres-collecte"
#: Default client scopes every application gets, besides the realm's default ones.
DEFAULT_SCOPES = ("basic", "profile", "email")
#: Client attribute marking a client made by this command: only those are ever updated.
MARKER_ATTRIBUTE = "collecte.application"
AUDIENCE_MAPPER = "audience de l'application"
CLIENT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{2,62}")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
#: Keycloak keeps the post-logout redirect URIs in one attribute, joined by this.
URI_SEPARATOR = "##"


@dataclass(frozen=True)
class Application:
    """What the application's team gives: validated by `application()`."""

    name: str
    client_id: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_url: str | None = None


# --- validation --------------------------------------------------------------------------------


def validate_client_id(value: str) -> str:
    value = value.strip()
    if not CLIENT_ID_PATTERN.fullmatch(value):
        raise InvalidArgument(
            f"Identifiant de client invalide : « {value} » (attendu : 3 à 63 caractères, "
            "minuscules, chiffres et tirets, par exemple application-collecte)."
        )
    return value


def validate_uri(option: str, value: str, *, browser: bool = True) -> str:
    """An exact absolute URL. `browser`: the browser is sent there with a code or after the
    logout, so https is required except on the loopback (development)."""
    value = value.strip()
    if "*" in value:
        raise InvalidArgument(
            f"{option} : « {value} » contient « * ». Les adresses de redirection doivent être "
            "exactes, sans caractère générique : indiquez chaque adresse complète."
        )
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(
            f"{option} : « {value} » n'est pas une adresse absolue (https://hôte/chemin)."
        )
    if parts.fragment or "#" in value:
        raise InvalidArgument(f"{option} : « {value} » ne doit pas contenir de fragment (#).")
    if browser and parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
        raise InvalidArgument(
            f"{option} : « {value} » doit être en https (http seulement pour localhost)."
        )
    return value


def application(
    name: str,
    client_id: str,
    redirect_uris: Iterable[str],
    post_logout_redirect_uris: Iterable[str] = (),
    backchannel_logout_url: str | None = None,
) -> Application:
    """The validated inputs, or InvalidArgument with a French message; nothing is written."""
    redirects = tuple(dict.fromkeys(validate_uri("--redirection", u) for u in redirect_uris))
    if not redirects:
        raise InvalidArgument("--redirection : au moins une adresse de redirection est requise.")
    return Application(
        name=validate_text("--nom", name),
        client_id=validate_client_id(client_id),
        redirect_uris=redirects,
        post_logout_redirect_uris=tuple(
            dict.fromkeys(
                validate_uri("--redirection-apres-deconnexion", u)
                for u in post_logout_redirect_uris
            )
        ),
        backchannel_logout_url=(
            validate_uri("--deconnexion-canal-arriere", backchannel_logout_url, browser=False)
            if backchannel_logout_url
            else None
        ),
    )


# --- the client Keycloak should hold -----------------------------------------------------------


def wanted_client(app: Application) -> dict[str, Any]:
    """The client representation this command keeps (fields it does not name are left)."""
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
