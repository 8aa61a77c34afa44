"""« Je ne parviens pas à me connecter » : the diagnosis mailed to the address that asks.

The public form (:mod:`portal.web.main`) answers the same page whatever the address and does no
more than enqueue :meth:`SelfHelp.answer`: the time of its answer says nothing about the address.
The task then reads the diagnosis (:mod:`portal.core.services.diagnostic`'s conditions, told to
the person): an unknown address gets nothing; a known one gets one mail saying which access
condition fails, in plain French, with whom to ask — and, when its invitation expired before the
space was activated, a fresh invitation in a separate mail, within the re-send limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.abuse_limits import AbuseLimits, LimitReached
from portal.core.dates import date_paris
from portal.core.domain import NON_LOGIN_FUNCTIONS, Change, Diagnosis, Invitation
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.notify import Mailer
from portal.core.services.diagnostic import may_reinvite

SUBJECT = "Votre accès à la plateforme de collecte des données adhérents"
COORDINATOR_OR_SUPPORT = (
    "le coordonnateur de votre groupement de commandes, ou le support de la plateforme ({support})"
)


@dataclass(frozen=True)
class Reinvitation:
    """What became of a fresh invitation: sent (its dates), or refused by the limits (why)."""

    sent: Invitation | None = None
    refused: str = ""


def _expired_before_activation(diagnosis: Diagnosis) -> bool:
    invitation = diagnosis.invitation
    return (
        diagnosis.activated_at is None
        and invitation is not None
        and invitation.expired()
        and may_reinvite(diagnosis)
    )


def problems(diagnosis: Diagnosis, support: str, again: Reinvitation) -> list[str]:
    """The access conditions that fail, each said to the person with the way forward; empty
    when nothing stops them."""
    person = diagnosis.person
    assert person is not None
    ask = COORDINATOR_OR_SUPPORT.format(support=support)
    if not person.enabled:
        return [f"Votre compte est désactivé. Écrivez au support de la plateforme ({support})."]
    if not diagnosis.collection_scopes and not diagnosis.is_staff:
        held = [
            f"interlocuteur {function.label.lower()} pour "
            + ", ".join(map(str, sorted(person.scopes(function))))
            for function in NON_LOGIN_FUNCTIONS
            if person.scopes(function)
        ]
        if held:
            return [
                f"Vous êtes enregistré comme {' et '.join(held)}. Ces fonctions ne donnent pas "
                "accès à la plateforme : seuls les interlocuteurs de collecte s’y connectent. Si "
                "vous devez saisir les données de votre adhérent, demandez à son interlocuteur "
                "de collecte de vous proposer comme interlocuteur de collecte depuis son "
                f"espace, ou adressez-vous à {ask}."
            ]
        return [
            "Votre adresse n’est interlocuteur de collecte d’aucun adhérent : elle ne donne pas "
            f"accès à la plateforme. Adressez-vous à {ask}."
        ]
    found: list[str] = []
    invitation = diagnosis.invitation
    if diagnosis.activated_at is None:
        if again.sent is not None:
            found.append(
                "Votre espace Client n’est pas encore activé et le lien de votre invitation a "
                "expiré : un nouveau lien vient de vous être envoyé dans un e-mail séparé, "
                f"valable jusqu’au {date_paris(again.sent.expires_at)}. Suivez-le pour choisir "
                "vous-même votre mot de passe."
            )
        elif again.refused:
            found.append(
                "Votre espace Client n’est pas encore activé et le lien de votre invitation a "
                f"expiré. {again.refused} Vous pouvez aussi vous adresser à {ask}."
            )
        elif invitation is not None:
            found.append(
                "Votre espace Client n’est pas encore activé : suivez le lien de l’invitation "
                f"reçue le {date_paris(invitation.sent_at)} (valable jusqu’au "
                f"{date_paris(invitation.expires_at)}) pour choisir vous-même votre mot de passe."
            )
        else:
            found.append(
                "Votre espace Client n’est pas encore activé et aucune invitation ne vous a "
                f"encore été envoyée : adressez-vous à {ask}."
            )
    elif not person.terms_accepted_at or diagnosis.terms_outdated:
        version = diagnosis.current_terms_version
        which = f" en vigueur (version {version})" if diagnosis.terms_outdated else ""
        found.append(
            f"Les conditions générales d’utilisation (CGU){which} ne sont pas acceptées : "
            "elles vous sont présentées à la connexion, et l’accès s’ouvre dès que vous les "
            "acceptez."
        )
    if diagnosis.locked:
        until = diagnosis.locked_until
        when = f", au plus tard le {date_paris(until)}" if until else " après quelques minutes"
        found.append(
            "Votre compte est temporairement verrouillé après plusieurs mots de passe erronés. "
            f"Il se déverrouille seul{when}. En cas d’oubli du mot de passe, utilisez alors "
            "« Mot de passe oublié ? » sur la page de connexion."
        )
    return found


def help_mail(diagnosis: Diagnosis, support: str, login_url: str, again: Reinvitation) -> str:
    """The mail's text for a known address."""
    found = problems(diagnosis, support, again)
    if found:
        verdict = "Voici ce qui vous empêche de vous connecter :\n\n" + "\n\n".join(
            f"- {line}" for line in found
        )
    else:
        verdict = (
            "Rien n’empêche votre connexion avec cette adresse. Saisissez-la comme identifiant "
            f"sur la page de connexion ({login_url}) ; en cas d’oubli du mot de passe, utilisez "
            "« Mot de passe oublié ? » sur cette page."
        )
    return f"""Bonjour,

Vous avez indiqué ne pas parvenir à vous connecter à la plateforme de collecte des données \
adhérents avec l’adresse {diagnosis.email}.

{verdict}

Pour toute question : {COORDINATOR_OR_SUPPORT.format(support=support)}.

Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : rien n’a été modifié sur \
votre compte. Aucun interlocuteur ne vous demandera jamais votre mot de passe.
"""


class SelfHelp:
    """Answers « je ne parviens pas à me connecter » for one address (run by the task queue)."""

    def __init__(
        self,
        gateway: KeycloakGateway,
        mailer: Mailer,
        limits: AbuseLimits,
        login_url: str,
    ) -> None:
        """``login_url``: the portal's sign-in, named in the mail and where invitations lead."""
        self.gateway, self.mailer, self.limits = gateway, mailer, limits
        self.login_url = login_url

    def answer(self, email: str) -> bool:
        """Mail the diagnosis to a known address; False for an unknown one (nothing sent)."""
        diagnosis = self.gateway.diagnosis(email)
        person = diagnosis.person
        if person is None:
            return False
        again = Reinvitation()
        if _expired_before_activation(diagnosis):
            # The person asked for it: the change is theirs.
            change = Change.now(person.email, "invitation renvoyée à sa demande")
            try:
                with self.limits.invitation(person.id).around():
                    again = Reinvitation(
                        sent=self.gateway.invite(person.id, self.login_url, change)
                    )
            except LimitReached as refused:
                again = Reinvitation(refused=str(refused))
        body = help_mail(diagnosis, self.mailer.support, self.login_url, again)
        self.mailer.send(person.email, SUBJECT, body)
        return True
