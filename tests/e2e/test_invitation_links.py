"""Invitation links: a new invitation replaces the older link; a mail scanner consumes nothing.

Invitations are sent the way the support console sends them, through the portal's gateway,
which records the sending time that our Keycloak provider compares with each link's issue time.
"""

from __future__ import annotations

import base64
import html
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import requests

from portal.core.domain import INVITATION_SENT
from tests.e2e.journeys import (
    complete_invitation,
    error_text,
    invite,
    mail_link,
    start_invitation,
)

SCOPE = "213100019/1"
REPLACED = "Ce lien d'invitation a été remplacé par un plus récent"
#: The confirmation page a fresh opening of an invitation link shows (confirmExecutionOfActions).
CONFIRMATION = "Pour activer votre espace Client, réalisez les étapes suivantes"


def _issued_at(link: str) -> int:
    """The `iat` (epoch seconds) of the action token in an invitation link."""
    token = parse_qs(urlsplit(link).query)["key"][0]
    payload = token.split(".")[1]
    return int(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["iat"])


def _wait_for_the_second_after(epoch_second: int) -> None:
    """The sending time is recorded to the second: wait (under a second) until the clock has
    left `epoch_second`, so a new sending is recorded strictly later."""
    while time.time() < epoch_second + 1:
        time.sleep(max(0.01, epoch_second + 1 - time.time()))


def _action_links(page_html: str) -> list[str]:
    return [
        html.unescape(href)
        for href in re.findall(r'href="([^"]*/login-actions/action-token[^"]*)"', page_html)
    ]


def test_execute_actions_links_are_handled_by_our_provider(platform):
    """Keycloak keeps one factory per provider id, the highest order(): ours says 1, the
    built-in handler the default 0. Server info reports the order of the factory in use."""
    handlers = platform.admin.get_server_info()["providers"]["actionTokenHandler"]["providers"]
    assert handlers["execute-actions"]["order"] == 1
    assert handlers["reset-credentials"]["order"] == 0  # the other built-in handlers stay


def test_a_new_invitation_replaces_the_previous_link(platform, gateway, create_person, page):
    person_id = create_person(collecte=[SCOPE])
    email = platform.admin.get_user(person_id)["email"]

    invite(gateway, platform, person_id)
    first = mail_link(platform.mail, email, count=1)
    _wait_for_the_second_after(_issued_at(first))
    invite(gateway, platform, person_id)
    second = mail_link(platform.mail, email, count=2)

    recorded = int(platform.admin.get_user(person_id)["attributes"][INVITATION_SENT][0])
    assert _issued_at(first) < recorded <= _issued_at(second)

    start_invitation(page, first)
    page.wait_for_selector("#kc-error-message")
    assert REPLACED in error_text(page)
    assert page.locator("#password-new").count() == 0
    # Refused by our verifier: its event error is ours, not one of Keycloak's.
    events = platform.admin.get_events({"user": person_id, "type": "EXECUTE_ACTIONS_ERROR"})
    assert [event.get("error") for event in events] == ["invitation_superseded"]

    complete_invitation(page, platform, second, email)
    assert platform.admin.get_user(person_id)["requiredActions"] == []


def test_a_mail_scanner_opening_the_link_does_not_consume_it(
    platform, gateway, create_person, page
):
    person_id = create_person(collecte=[SCOPE])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)
    link = mail_link(platform.mail, email)

    # A scanner GETs the link without the user's browser cookies (each requests.get starts with
    # none), then, for the thorough ones, the links of the page it got.
    opened = requests.get(link, timeout=10)
    assert opened.status_code == 200
    assert CONFIRMATION in html.unescape(opened.text)
    followed = _action_links(opened.text)
    assert followed
    for target in followed:
        again = requests.get(target, timeout=10)
        assert again.status_code == 200
        assert CONFIRMATION in html.unescape(again.text)

    complete_invitation(page, platform, link, email)


def _record_sending(platform, person_id: str, second: int) -> None:
    """Set the recorded sending time to a chosen second, as the portal writes it (Admin API)."""
    person = platform.admin.get_user(person_id)
    attributes = {**person["attributes"], INVITATION_SENT: [str(second)]}
    platform.admin.update_user(person_id, {**person, "attributes": attributes})
    assert platform.admin.get_user(person_id)["attributes"][INVITATION_SENT] == [str(second)]


def _link_accepted(link: str) -> bool:
    """Open the link as a fresh browser would (no cookie): Keycloak's confirmation page means
    the link passed every verifier, ours included; our refusal means it did not."""
    opened = requests.get(link, timeout=10)
    text = html.unescape(opened.text)
    if REPLACED in text:
        return False
    assert opened.status_code == 200 and CONFIRMATION in text, text[:500]
    return True


def test_a_link_issued_in_the_recorded_second_is_the_latest_one_issued_before_is_not(
    platform, gateway, create_person, page
):
    """The boundary of the superseded-link rule, built deterministically: the recorded sending
    time is set around the real token's `iat` (Keycloak's clock, in seconds). The portal records
    the time before Keycloak signs, so a link issued in that same second is the new one."""
    person_id = create_person(collecte=[SCOPE])
    email = platform.admin.get_user(person_id)["email"]
    invite(gateway, platform, person_id)
    link = mail_link(platform.mail, email)
    issued = _issued_at(link)

    _record_sending(platform, person_id, issued + 1)
    assert not _link_accepted(link)  # issued the second before: an earlier invitation's
    _record_sending(platform, person_id, issued)
    assert _link_accepted(link)  # same second: the latest invitation's
    _record_sending(platform, person_id, issued - 1)
    assert _link_accepted(link)

    _record_sending(platform, person_id, issued)
    complete_invitation(page, platform, link, email)
    assert platform.admin.get_user(person_id)["requiredActions"] == []
