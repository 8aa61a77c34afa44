"""The inputs of `collecte_kc.applications`, validated (exact redirect URIs, French messages);
the client Keycloak keeps for them is :mod:`portal.core.keycloak.clients`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from collecte_kc.coordinators import InvalidArgument, validate_text
from portal.core.keycloak.clients import Application

CLIENT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{2,62}")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


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
