"""Common passwords are refused by the real Keycloak (the realm's passwordBlacklist policy with
the list shipped in keycloak/password-blacklists), whatever the path: the Admin API and the
invitation's « choose your password » page, where the refusal is French."""

from __future__ import annotations

import pytest
from keycloak.exceptions import KeycloakPutError

from collecte_kc.paths import PASSWORD_BLACKLISTS_DIR
from tests.e2e.journeys import (
    PASSWORD,
    choose_password,
    error_text,
    invite,
    mail_link,
    start_invitation,
)

LIST_FILE = PASSWORD_BLACKLISTS_DIR / "collecte-mots-de-passe-courants.txt"
# 12 characters or more (the length rule would refuse shorter ones anyway), from the list.
COMMON = ["azertyuiop123", "Motdepasse2026!", "qwerty123456", "Collecte2026!"]


def listed() -> set[str]:
    return set(LIST_FILE.read_text(encoding="utf-8").split())


def test_the_shipped_list_holds_the_words_tried_here():
    words = listed()
    assert all(common.lower() in words for common in COMMON)
    assert PASSWORD.lower() not in words


@pytest.mark.parametrize("common", COMMON)
def test_keycloak_refuses_a_common_password(platform, create_person, common):
    person_id = create_person()
    with pytest.raises(KeycloakPutError) as refused:
        platform.admin.set_user_password(person_id, common, temporary=False)
    assert refused.value.response_code == 400
    assert "invalidPasswordBlacklistedMessage" in str(refused.value)
    assert platform.admin.get_credentials(person_id) == []


def test_an_uncommon_password_is_accepted(platform, create_person):
    person_id = create_person()
    platform.admin.set_user_password(person_id, "Ours-brun-des-Pyrenees-42", temporary=False)
    assert [c["type"] for c in platform.admin.get_credentials(person_id)] == ["password"]


def test_the_invitation_page_refuses_a_common_password_in_french(
    platform, gateway, create_person, page
):
    person_id = create_person(collecte=["213100019/1"])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)

    start_invitation(page, mail_link(platform.mail, email))
    choose_password(page, "Azertyuiop2026!")
    page.wait_for_selector("#password-new")
    assert "figure parmi les mots de passe les plus courants" in error_text(page)
    assert platform.admin.get_credentials(person_id) == []

    choose_password(page, PASSWORD)
    page.wait_for_selector("#kc-accept")
