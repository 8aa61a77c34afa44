"""The notice that a new version of the CGU is to be accepted, mailed once to each person
concerned: whoever had accepted the CGU, may sign in (collection contact or staff), and has not
accepted the version in force — the people Keycloak's CGU page will stop at their next sign-in.

Run every minute by the task queue's consumers (:mod:`portal.web.notices`), possibly on several
hosts at once: each mail is claimed in the queue's store before it is sent (one mail per person
and version, whoever runs), and the version is marked announced once everyone concerned has
been mailed; a run stopped halfway (a crash, the mail server down) goes on at the next minute
with whoever is left.
"""

from __future__ import annotations

from typing import Protocol

from portal.core.domain import Function, Person
from portal.core.keycloak import schema
from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.notify import Mailer, NotificationFailed

SUBJECT = "Nouvelles conditions générales d’utilisation à accepter"


class Claims(Protocol):
    """A shared store of markers (the task queue's)."""

    def claim(self, key: str) -> bool:
        """Set ``key``; True for the one caller who set it first."""

    def release(self, key: str) -> None:
        """Unset ``key`` (a claimed mail that could not be sent)."""

    def is_set(self, key: str) -> bool: ...


def notice(person: Person, version: str, login_url: str, support: str) -> str:
    return f"""Bonjour,

Les conditions générales d’utilisation (CGU) de la plateforme de collecte des données \
adhérents ont été mises à jour : version {version}. Elles vous seront présentées à votre \
prochaine connexion ({login_url}) ; votre accès s’ouvre dès que vous les acceptez. Tant que vous \
ne les avez pas acceptées, la plateforme ne vous donne pas accès à vos données.

Cet e-mail ne vous demande rien d’autre : ni mot de passe, ni pièce jointe à ouvrir. Si vous \
n’êtes plus interlocuteur de collecte de votre adhérent, ou en cas de doute sur ce message, \
écrivez au support de la plateforme ({support}) plutôt que de suivre un lien.

Plateforme de collecte des données adhérents
"""


class TermsNotices:
    def __init__(
        self, gateway: KeycloakGateway, mailer: Mailer, claims: Claims, login_url: str
    ) -> None:
        self.gateway, self.mailer, self.claims = gateway, mailer, claims
        self.login_url = login_url

    def announce(self) -> int:
        """Mail whoever is concerned and not yet mailed for the version in force; how many
        were mailed by this run. Raises :class:`NotificationFailed` (the next run goes on)."""
        version = self.gateway.current_terms_version()
        if not version or self.claims.is_set(f"cgu-annoncee:{version}"):
            return 0
        sent = 0
        for person in self.gateway.everyone():
            if not self._concerned(person, version):
                continue
            key = f"cgu-annonce:{version}:{person.id}"
            if not self.claims.claim(key):
                continue  # mailed already, by this run's predecessor or another consumer
            try:
                body = notice(person, version, self.login_url, self.mailer.support)
                self.mailer.send(person.email, SUBJECT, body)
            except NotificationFailed:
                self.claims.release(key)
                raise
            sent += 1
        self.claims.claim(f"cgu-annoncee:{version}")
        return sent

    def _concerned(self, person: Person, version: str) -> bool:
        if not person.enabled or person.terms_accepted_at is None:
            return False
        if person.terms_version == version:
            return False
        if person.scopes(Function.COLLECTE):
            return True
        return schema.STAFF_ROLE in self.gateway.realm_roles(person.id)
