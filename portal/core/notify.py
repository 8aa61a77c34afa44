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
