"""Two people sharing one mailbox sign in at the same instant (or one person double-submits).

Keycloak 26's brute-force detection, by default, refuses a login request for a user while
another one for the same user is in progress — and the login page then says « Adresse e-mail
ou mot de passe invalide » to people who typed the right password. The platform starts
Keycloak with the brute-force SPI's `allowConcurrentRequests` option: correct passwords
typed at the same time all succeed. The lockout after wrong passwords is unchanged (its tests
are in tests/integration/test_realm.py).
"""

from __future__ import annotations

import html
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.journeys import PASSWORD
from tests.helpers.signin import LOGIN_FORM, LoopbackBrowser

SIMULTANEOUS = 3
FIELD_ERROR = re.compile(r'id="input-error[^"]*"[^>]*>(.*?)</span>', re.S)


def refusal(page: str) -> str | None:
    """The message next to the login form's fields, if Keycloak showed the form again."""
    match = FIELD_ERROR.search(page)
    if match is None:
        return None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def login_form_action(platform, browser: LoopbackBrowser) -> str:
    """Start a sign-in on the portal, as a browser would: the action of Keycloak's form."""
    page = browser.get(f"{platform.portal_url}/connexion", timeout=10)
    match = LOGIN_FORM.search(page.text)
    assert match, page.text[:500]
    return html.unescape(match.group(1))


def test_simultaneous_correct_sign_ins_of_one_account_all_succeed(platform, activated_person):
    email = activated_person(PASSWORD, collecte=["213500010/1"])
    browsers = [LoopbackBrowser() for _ in range(SIMULTANEOUS)]
    actions = [login_form_action(platform, browser) for browser in browsers]
    start = threading.Barrier(SIMULTANEOUS)

    def submit(index: int) -> str:
        start.wait(timeout=10)
        answer = browsers[index].post(
            actions[index],
            data={"username": email, "password": PASSWORD, "credentialId": ""},
            timeout=30,
        )
        return answer.text

    with ThreadPoolExecutor(SIMULTANEOUS) as pool:
        pages = list(pool.map(submit, range(SIMULTANEOUS)))
    for browser in browsers:
        browser.close()

    refusals = [message for page in pages if (message := refusal(page)) is not None]
    assert refusals == []
    for page in pages:
        # Each browser is back on the portal's home page, signed in.
        assert 'id="utilisateur-connecte"' in page
        assert email in page
