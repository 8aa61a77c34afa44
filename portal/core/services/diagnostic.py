"""« Pourquoi ne peut-elle pas se connecter ? » : a :class:`Diagnosis` as rows for the support.

Each row answers one question with « Oui » or « Non », gives a date where one exists and, when the
answer stops the person from signing in, what to do. The rows that block are exactly the
conditions of :attr:`Diagnosis.can_sign_in`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.core.authority import refused_scopes
from portal.core.dates import date_paris
from portal.core.domain import NON_LOGIN_FUNCTIONS, Diagnosis, Function, Invitation, Person
from portal.core.keycloak import schema

#: Keycloak's required actions, as the support tells them.
ACTION_LABELS = {
    schema.TERMS_AND_CONDITIONS: "Accepter les CGU",
    schema.UPDATE_PASSWORD: "Choisir son mot de passe",
    schema.VERIFY_EMAIL: "Confirmer son adresse e-mail",
}
COORDINATOR = "Rapprochez-vous du coordonnateur du groupement."
UNKNOWN_FIX = (
    "Vérifiez l’adresse auprès du coordonnateur du groupement : l’identifiant est l’adresse "
    "e-mail qu’il a fournie pour la collecte, celle à laquelle l’invitation a été envoyée. "
    + COORDINATOR
)
NOT_IN_GROUP_FIX = (
    "Une fonction ne compte que si la personne est membre du groupe de l’adhérent et que le lot "
    "est un lot de l’adhérent : le coordonnateur du groupement ou le support doit l’y rattacher."
)
INVITE_FIX = (
    "Envoyez une nouvelle invitation : la personne y choisira elle-même son mot de passe "
    "(aucun mot de passe ne peut lui être fourni)."
)
INVITE_LATER = (
    "Une invitation ne lui donnerait pas accès : il faut d’abord qu’elle soit interlocuteur de "
    "collecte (voir cette ligne)."
)


@dataclass(frozen=True)
class Condition:
    key: str  # data-condition of the row
    question: str
    answer: bool  # « Oui » / « Non »
    blocking: bool = False  # this answer stops the person from signing in
    date: datetime | None = None
    no_date: str = "—"
    detail: str = ""
    fix: str = ""
    reason: str = ""  # how the verdict names it when it blocks
    action: str = ""  # the form or link shown with the fix: "reinviter", "deverrouiller", "ajouter"


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def conditions(diagnosis: Diagnosis) -> list[Condition]:
    person = diagnosis.person
    if person is None:
        return [
            Condition(
                "connu",
                "Adresse connue de la plateforme",
                False,
                blocking=True,
                fix=UNKNOWN_FIX,
                reason="adresse inconnue de la plateforme",
            )
        ]
    reinvite = may_reinvite(diagnosis)
    return [
        Condition("connu", "Adresse connue de la plateforme", True),
        _collection(diagnosis, person),
        _must(
            "actif",
            "Compte actif",
            person.enabled,
            "compte désactivé",
            "Le compte a été désactivé : un administrateur de la plateforme doit le réactiver.",
        ),
        _must(
            "active",
            "Espace Client activé (mot de passe choisi par la personne)",
            diagnosis.activated_at is not None,
            "espace Client non activé",
            INVITE_FIX if reinvite else INVITE_LATER,
            date=diagnosis.activated_at,
            action="reinviter" if reinvite and diagnosis.activated_at is None else "",
        ),
        _must(
            "email",
            "Adresse e-mail confirmée",
            person.email_verified,
            "adresse e-mail non confirmée",
            "La personne confirme son adresse en suivant le lien de l’invitation.",
        ),
        _terms(diagnosis, person),
        Condition(
            "verrouille",
            "Compte verrouillé temporairement après des échecs de connexion",
            diagnosis.locked,
            blocking=diagnosis.locked,
            fix="Le verrouillage se lève seul après quelques minutes ; vous pouvez aussi "
            "déverrouiller le compte maintenant.",
            reason="compte verrouillé temporairement",
            action="deverrouiller" if diagnosis.locked else "",
        ),
        _pending_actions(diagnosis),
        Condition(
            "connexion",
            "Dernière connexion réussie",
            diagnosis.last_login is not None,
            date=diagnosis.last_login,
            no_date="Jamais",
        ),
        _invitation(diagnosis.invitation, reinvite and diagnosis.activated_at is not None),
    ]


def _must(key: str, question: str, met: bool, reason: str, fix: str, **more: Any) -> Condition:
    """A condition the person must meet to sign in: « Non » blocks."""
    return Condition(key, question, met, blocking=not met, reason=reason, fix=fix, **more)


def _collection(diagnosis: Diagnosis, person: Person) -> Condition:
    scopes = diagnosis.collection_scopes
    others = [
        f"{function.label} : {', '.join(map(str, sorted(person.scopes(function))))}"
        for function in NON_LOGIN_FUNCTIONS
        if person.scopes(function)
    ]
    refused = refused_scopes(person, Function.COLLECTE, diagnosis.memberships)
    if scopes:
        detail = "SIREN/lot : " + ", ".join(map(str, scopes))
    elif diagnosis.is_staff:
        detail = "Membre de l’équipe de la plateforme : l’accès ne dépend pas de cette fonction."
    else:
        detail = " ; ".join(others)
    if refused:
        # A `collecte` value alone gives nothing: say which ones, and why (portal.core.authority).
        ignored = "Sans effet : " + " ; ".join(f"{scope} ({why})" for scope, why in refused)
        detail = f"{detail} — {ignored}" if detail else ignored
    blocking = not scopes and not diagnosis.is_staff
    return Condition(
        Function.COLLECTE.value,
        Function.COLLECTE.label,
        bool(scopes),
        blocking=blocking,
        detail=detail,
        fix=(
            "Être interlocuteur technique ou de facturation ne donne pas accès à la plateforme. "
            + COORDINATOR
        )
        if others and not refused
        else (NOT_IN_GROUP_FIX if refused else COORDINATOR),
        reason="n’est interlocuteur de collecte pour aucun SIREN",
        action="ajouter" if blocking else "",
    )


def _terms(diagnosis: Diagnosis, person: Person) -> Condition:
    """Accepted, and the version in force: an earlier version comes back at the next sign-in."""
    current = diagnosis.current_terms_version
    detail = f"Version : {person.terms_version or '—'}"
    if diagnosis.terms_outdated:
        return _must(
            "cgu",
            "CGU acceptées",
            False,
            "CGU en vigueur non acceptées",
            f"Les CGU ont changé (version {current}) : la personne accepte la nouvelle version à "
            "sa prochaine connexion ; tant qu’elle la refuse, elle n’a pas accès.",
            date=person.terms_accepted_at,
            detail=f"{detail} (en vigueur : {current})",
        )
    return _must(
        "cgu",
        "CGU acceptées",
        person.terms_accepted_at is not None,
        "CGU non acceptées",
        "La personne accepte les CGU à sa prochaine connexion ou en suivant l’invitation ; "
        "tant qu’elle les refuse, elle n’a pas accès.",
        date=person.terms_accepted_at,
        detail=detail,
    )


def _pending_actions(diagnosis: Diagnosis) -> Condition:
    pending = diagnosis.pending_actions
    return Condition(
        "actions",
        "Actions requises en attente",
        bool(pending),
        blocking=bool(pending),
        detail=", ".join(map(action_label, pending)),
        fix="La personne les effectue à sa prochaine connexion ou en suivant l’invitation.",
        reason="actions requises en attente",
    )


def _invitation(invitation: Invitation | None, reinvite: bool) -> Condition:
    """The last invitation; ``reinvite``: offer a new one here (the space is active, so the row
    « Espace Client activé » does not offer it, but this invitation has expired)."""
    action = "reinviter" if reinvite else ""
    if invitation is None:
        return Condition("invitation", "Invitation envoyée", False, detail="Aucune invitation.")
    until = f"valable jusqu’au {date_paris(invitation.expires_at)}"
    return Condition(
        "invitation",
        "Invitation envoyée",
        True,
        date=invitation.sent_at,
        detail=f"expirée ({until})" if invitation.expired() else until,
        fix=INVITE_FIX if reinvite else "",
        action=action,
    )


def verdict(diagnosis: Diagnosis, rows: list[Condition]) -> str:
    if diagnosis.can_sign_in:
        return "Cette personne peut se connecter."
    reasons = [row.reason for row in rows if row.blocking] or ["voir le détail ci-dessous"]
    return f"Cette personne ne peut pas se connecter : {' ; '.join(reasons)}."


def may_reinvite(diagnosis: Diagnosis) -> bool:
    """A new invitation helps a person who may sign in once active (collection contact or
    platform staff) whose space is not active yet or whose last invitation has expired."""
    person, invitation = diagnosis.person, diagnosis.invitation
    if person is None or not (diagnosis.collection_scopes or diagnosis.is_staff):
        return False
    return diagnosis.activated_at is None or (invitation is not None and invitation.expired())
