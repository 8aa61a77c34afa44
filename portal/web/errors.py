"""French error pages; Keycloak outages become "Service momentanément indisponible" (503)."""

from __future__ import annotations

import requests
from flask import Flask, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from portal.core.errors import (
    ConcurrentChange,
    InvitationNotSent,
    KeycloakUnavailable,
    NotAllowed,
    NotificationFailed,
    NotSupport,
    UnknownPerson,
    UnknownRequest,
)
from portal.web.guards import NotStaff

#: (title, explanation) shown for each HTTP status.
MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Requête invalide", "La requête n’a pas pu être traitée."),
    403: ("Accès refusé", "Vous n’avez pas accès à cette page."),
    404: ("Page introuvable", "La page demandée n’existe pas ou a été déplacée."),
    405: ("Action non autorisée", "Cette page ne peut pas être utilisée de cette façon."),
    409: (
        "Modification simultanée",
        "Cette fiche a été modifiée par quelqu’un d’autre pendant votre enregistrement, "
        "plusieurs fois de suite. Rien n’a été enregistré : rechargez la page, vérifiez la fiche "
        "puis refaites votre modification.",
    ),
    413: (
        "Fichier trop volumineux",
        "Le fichier envoyé dépasse la taille autorisée (5 Mo au plus) : rien n’a été "
        "enregistré. Revenez à la page précédente et choisissez un fichier plus petit, par "
        "exemple en découpant la liste des membres en plusieurs fichiers.",
    ),
    500: (
        "Erreur interne",
        "Une erreur inattendue s’est produite. Veuillez réessayer plus tard.",
    ),
    503: (
        "Service momentanément indisponible",
        "Le service de connexion ne répond pas pour le moment. "
        "Veuillez réessayer dans quelques minutes.",
    ),
}

#: Errors raised while talking to Keycloak that mean "Keycloak is down or unreachable".
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    KeycloakUnavailable,  # the adapter's translation of python-keycloak's outage errors
    requests.ConnectionError,
    requests.Timeout,
)


def render_error(status: int, message: str | None = None) -> tuple[str, int]:
    """The French error page for ``status``, as a (body, status) pair."""
    fallback = (f"Erreur {status}", "Une erreur s’est produite.")
    title, default_message = MESSAGES.get(status, fallback)
    body = render_template(
        "errors/erreur.html", status=status, title=title, message=message or default_message
    )
    return body, status


def service_unavailable(error: Exception) -> ResponseReturnValue:
    current_app.logger.warning("Keycloak unavailable: %r", error)
    body, status = render_error(503)
    return body, status, {"Retry-After": "60"}


def keycloak_http_error(error: requests.HTTPError) -> ResponseReturnValue:
    """An HTTP error status from Keycloak seen by Authlib (discovery document, JWKS)."""
    status = error.response.status_code if error.response is not None else None
    if status is not None and status >= 500:
        return service_unavailable(error)
    current_app.logger.error("Unexpected HTTP error from Keycloak", exc_info=error)
    return render_error(500)


NOTIFICATION_FAILED = (
    "Votre demande n’a pas pu être transmise au support : la messagerie est momentanément "
    "indisponible. Rien n’a été enregistré ; veuillez réessayer plus tard."
)


INVITATION_NOT_SENT = (
    "L'invitation n'a pas pu être envoyée : la messagerie est momentanément indisponible. "
    "Rien n'a été modifié ; réessayez plus tard."
)
NOT_STAFF = (
    "Cette page est réservée aux coordonnateurs du groupement concerné et au support de la "
    "plateforme de collecte."
)
NOT_SUPPORT = (
    "Cette page est réservée au support de la plateforme de collecte. Si vous en faites partie, "
    "demandez à un administrateur de la plateforme de vous attribuer le rôle « support »."
)


def not_found(error: Exception) -> ResponseReturnValue:
    """Another adherent's SIREN/lot or person (:class:`NotAllowed`), a person or a request that
    no longer exists: the same page as a page that does not exist."""
    return render_error(404)


def not_support(error: NotSupport) -> ResponseReturnValue:
    return render_error(403, NOT_SUPPORT)


def not_staff(error: NotStaff) -> ResponseReturnValue:
    return render_error(403, NOT_STAFF)


def _mail_failed(what: str, error: Exception, message: str) -> ResponseReturnValue:
    current_app.logger.warning("%s failed: %r", what, error)
    body, status = render_error(503, message)
    return body, status, {"Retry-After": "60"}


def notification_failed(error: NotificationFailed) -> ResponseReturnValue:
    return _mail_failed("Support notification", error, NOTIFICATION_FAILED)


def invitation_not_sent(error: InvitationNotSent) -> ResponseReturnValue:
    return _mail_failed("Invitation", error, INVITATION_NOT_SENT)


def concurrent_change(error: ConcurrentChange) -> ResponseReturnValue:
    current_app.logger.warning("Gave up writing %s: changed by someone else each time", error)
    return render_error(409)


def csrf_error(error: CSRFError) -> ResponseReturnValue:
    return render_error(
        400,
        "Le formulaire a expiré ou n’est pas valide. Rechargez la page puis réessayez.",
    )


def http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        body, status = render_error(status)
        return body, status, {"Allow": ", ".join(error.valid_methods)}
    return render_error(status)


def init_app(app: Flask) -> None:
    for error_class in UNAVAILABLE_ERRORS:
        app.register_error_handler(error_class, service_unavailable)
    app.register_error_handler(requests.HTTPError, keycloak_http_error)
    app.register_error_handler(CSRFError, csrf_error)
    for missing in (NotAllowed, UnknownPerson, UnknownRequest):
        app.register_error_handler(missing, not_found)
    app.register_error_handler(NotSupport, not_support)
    app.register_error_handler(NotStaff, not_staff)
    app.register_error_handler(NotificationFailed, notification_failed)
    app.register_error_handler(InvitationNotSent, invitation_not_sent)
    app.register_error_handler(ConcurrentChange, concurrent_change)
    # Also catches unhandled exceptions, which Flask wraps in InternalServerError (500).
    app.register_error_handler(HTTPException, http_error)
