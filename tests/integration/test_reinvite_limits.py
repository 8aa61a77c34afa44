"""Abuse limits against the real Keycloak: support's re-sends to one person stop at the limit,
and the refused one neither writes to Keycloak nor sends a mail."""

from __future__ import annotations

import pytest

from portal.core.abuse_limits import LimitReached
from portal.core.services.support_desk import SupportDesk
from tests.helpers.realm_data import fresh_siren

SUPPORT = "sam.support@collecte.test"


def test_a_fourth_re_send_to_one_person_is_refused_and_sends_nothing(
    platform, gateway, adherent, create_person
):
    # The default limits (3 per person per 24 hours), in this desk's own memory store.
    desk = SupportDesk(gateway, SUPPORT, f"{platform.portal_url}/connexion")
    siren = adherent(fresh_siren())
    person_id = create_person(collecte=[f"{siren}/1"])
    email = platform.admin.get_user(person_id)["email"]
    for count in range(1, 4):
        desk.reinvite(person_id)
        platform.mail.wait_for(email, count=count)
    before = platform.admin.get_user(person_id)

    with pytest.raises(LimitReached) as refused:
        desk.reinvite(person_id)

    assert refused.value.message.startswith(
        "Trop d’invitations envoyées à cette personne (3 par 24 heures au plus) : aucune "
        "invitation n’a été envoyée. Réessayez à partir du "
    )
    assert platform.admin.get_user(person_id)["attributes"] == before["attributes"]
    # Keycloak hands each invitation to SMTP before answering: a fourth would be here already.
    assert platform.mail.count_for(email) == 3
