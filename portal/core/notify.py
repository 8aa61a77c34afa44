"""E-mails the portal itself sends (Keycloak sends invitations and resets)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from portal.core.domain import Adherent, ContactDetails, Scope
from portal.core.errors import (
    NotificationFailed as NotificationFailed,  # re-exported: importers keep working
)


class Mailer:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = str(config["SMTP_HOST"])
        self.port = int(config["SMTP_PORT"])
        self.sender = str(config["MAIL_FROM"])
        self.support = str(config["SUPPORT_EMAIL"])
        self.timeout = int(config["KEYCLOAK_TIMEOUT"])
        self.starttls = bool(config.get("SMTP_STARTTLS"))
        self.user = config.get("SMTP_USER") or None
        self.password = config.get("SMTP_PASSWORD") or ""

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
                if self.starttls:
                    server.starttls(context=ssl.create_default_context())
                if self.user:
                    server.login(str(self.user), str(self.password))
                server.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise NotificationFailed(str(error)) from error

    def collection_request(
        self,
        details: ContactDetails,
        scope: Scope,
        adherent: Adherent | None,
        requested_by: str,
        queue_url: str,
    ) -> None:
        name = adherent.name if adherent else ""
        phones = " / ".join(p for p in (details.phone_fixe, details.phone_mobile) if p)
        self.send(
            self.support,
            f"Demande d'interlocuteur de collecte — SIREN {scope.siren}, lot {scope.lot}",
            f"""Bonjour,

{requested_by} demande l'ajout d'un interlocuteur de collecte :

  Nom : {details.last_name}
  Prénom : {details.first_name}
  Adresse e-mail : {details.email}
  Téléphone : {phones}
  SIREN concerné : {scope.siren} {name}
  Lot concerné : {scope.lot}

La demande est en attente de traitement : {queue_url}

Plateforme de collecte des données adhérents
""",
        )

    def email_changed(self, old: str, new: str, when: str) -> None:
        """The security notice of an address changed by the support: to the old address (it no
        longer signs in) and to the new one (to be confirmed)."""
        warning = (
            "Si ce changement n'a pas été demandé par vous ou par votre adhérent, écrivez "
            f"aussitôt au support de la plateforme ({self.support})."
        )
        to_old = (
            f"Le {when}, le support de la plateforme de collecte des données adhérents a "
            f"remplacé l'adresse e-mail de votre compte ({old}) par {new}. L'adresse {old} ne "
            "permet plus de vous connecter."
        )
        to_new = (
            f"Le {when}, le support de la plateforme de collecte des données adhérents a fait "
            f"de cette adresse l'identifiant de votre compte, à la place de {old}. À votre "
            "prochaine connexion, un lien vous sera envoyé ici pour la confirmer."
        )
        for to, subject, text in (
            (old, "Sécurité de votre compte : adresse e-mail remplacée", to_old),
            (new, "Sécurité de votre compte : nouvelle adresse e-mail", to_new),
        ):
            body = (
                f"Bonjour,\n\n{text}\n\n{warning}\n\nPlateforme de collecte des données adhérents\n"
            )
            self.send(to, subject, body)
