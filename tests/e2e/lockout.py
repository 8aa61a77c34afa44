"""Wrong passwords typed at the login form the way a person types them: one at a time, each answer
awaited, spaced beyond the realm's quick-login window.

Keycloak's brute-force detection has two rules: `failureFactor` failures lock the account, and
two failures closer than `quickLoginCheckMilliSeconds` lock it at once (quick-login rule). Failures
sent back to back would therefore lock after the second one whatever `failureFactor` says; spacing
them beyond the window (read from the realm, polled against Keycloak's record of the last
failure) leaves only `failureFactor` deciding.
"""

from __future__ import annotations

import time
from typing import Any

#: README « Sécurité » : verrouillage temporaire après 5 échecs. The product's figure, not the
#: realm's: a realm whose failureFactor drifted must fail the lockout tests.
FAILURE_FACTOR = 5
#: Keycloak records a failure within its login request; the record is polled this long at most.
RECORD_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.05
#: The login form's action: the answer to a submitted password.
AUTHENTICATE = "/login-actions/authenticate"


def attack_status(admin: Any, person_id: str) -> dict[str, Any]:
    """Keycloak's brute-force record of the person: numFailures, disabled, lastFailure (ms)."""
    path = f"admin/realms/collecte/attack-detection/brute-force/users/{person_id}"
    status: dict[str, Any] = admin.connection.raw_get(path).json()
    return status


def quick_login_window_ms(admin: Any) -> int:
    return int(admin.get_realm("collecte")["quickLoginCheckMilliSeconds"])


def _wait_beyond_quick_login_window(admin: Any, person_id: str, window_ms: int) -> None:
    """Poll until the last recorded failure (Keycloak runs on this machine: same clock) is older
    than the quick-login window, with a margin for the request's own travel."""
    last = int(attack_status(admin, person_id).get("lastFailure") or 0)
    while time.time() * 1000 - last <= window_ms + 250:
        time.sleep(POLL_SECONDS)


def _wait_for_failures(admin: Any, person_id: str, count: int) -> dict[str, Any]:
    deadline = time.monotonic() + RECORD_TIMEOUT_SECONDS
    status = attack_status(admin, person_id)
    while int(status.get("numFailures", 0)) < count and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        status = attack_status(admin, person_id)
    assert int(status.get("numFailures", 0)) == count, status
    return status


def type_wrong_password(
    page: Any, admin: Any, person_id: str, email: str, failures_before: int
) -> dict[str, Any]:
    """On the login form already shown: wait beyond the quick-login window, submit a wrong
    password, wait for Keycloak's answer page and for its record of this failure; return the
    brute-force status after it."""
    _wait_beyond_quick_login_window(admin, person_id, quick_login_window_ms(admin))
    page.fill("#username", email)
    page.fill("#password", f"mauvais-mot-de-passe-{failures_before}")
    with page.expect_response(lambda r: r.request.method == "POST" and AUTHENTICATE in r.url):
        page.click("#kc-login")
    page.wait_for_load_state()
    page.wait_for_selector("#kc-form-login")
    return _wait_for_failures(admin, person_id, failures_before + 1)
