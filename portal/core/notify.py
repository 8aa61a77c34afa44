"""E-mails the portal itself sends (Keycloak sends invitations and resets)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email import policy
from email.message import EmailMessage
from typing import Any

from portal.core.domain import Adherent, ContactDetails, Scope
from portal.core.errors import (
    NotificationFailed as NotificationFailed,  # re-exported: importers keep working
)

#: RFC 5322's line limit (998) rather than 78: Python's folding of a long French subject drops
#: the space between two encoded words (« d’utilisationà accepter » in every mail reader).
MAIL_POLICY = policy.default.clone(max_line_length=998)


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
        message = EmailMessage(policy=MAIL_POLICY)
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

    def accountless_request(
        self, details: ContactDetails, scope: Scope, adherent: Adherent, queue_url: str
    ) -> None:
        """Tell support of a « demande sans compte », to be checked with the coordinator."""
        phones = " / ".join(p for p in (details.phone_fixe, details.phone_mobile) if p)
        self.send(
            self.support,
            f"Demande sans compte — SIREN {scope.siren}, lot {scope.lot}",
            f"""Bonjour,

Une personne qui ne peut pas se connecter demande à devenir interlocuteur de collecte \
(formulaire public « demande sans compte ») :

  Nom : {details.last_name}
  Prénom : {details.first_name}
  Adresse e-mail : {details.email}
  Téléphone : {phones}
  SIREN concerné : {scope.siren} {adherent.name}
  Groupement : {adherent.groupement}
  Lot concerné : {scope.lot}

Rien de cela n'est vérifié : avant d'accepter, vérifiez la demande auprès du coordonnateur du \
groupement {adherent.groupement}. Accepter envoie l'invitation à l'adresse indiquée.

La demande est en attente de traitement : {queue_url}

Plateforme de collecte des données adhérents
""",
        )

    def accountless_refused(self, to: str, scope: Scope, reason: str) -> None:
        """Tell the person their « demande sans compte » was refused, and why."""
        self.send(
            to,
            "Votre demande d'accès à la plateforme de collecte des données adhérents",
            f"""Bonjour,

Votre demande pour devenir interlocuteur de collecte du SIREN {scope.siren}, lot {scope.lot}, \
n'a pas été acceptée par le support de la plateforme.

Motif : {reason}

Pour toute question, adressez-vous au coordonnateur de votre groupement de commandes ou au \
support de la plateforme ({self.support}).

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : aucun accès n'a été ouvert.

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
