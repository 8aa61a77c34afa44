"""The second factor the platform staff give at every sign-in, answered the way a person does.

Support and coordinators (realm role `equipe-plateforme`) enrol an authenticator app at their
first sign-in (Keycloak's CONFIGURE_TOTP page), then type its code at every sign-in. Every test
that signs a staff member in, through the scripted form (tests/helpers/signin.py) or in Chromium
(`sign_in_staff`), goes through here: the enrolment reads the secret Keycloak shows, keeps it
for that e-mail, and later sign-ins compute the code from it with pyotp.

Keycloak refuses a code used once (`otpPolicyCodeReusable` false) and accepts the codes of the
previous, current and next 30-second steps (`otpPolicyLookAheadWindow` 1): `next_code` never
hands out a step twice for one person, and waits for a new step when all three are used.
"""

from __future__ import annotations

import base64
import html
import re
import threading
import time
from typing import Any

import pyotp

PERIOD = 30
# realm-export.json: otpPolicyLookAheadWindow 1 (previous, current and next steps accepted).
_SECRETS: dict[str, str] = {}  # e-mail (lower case) -> base32 secret
_USED_STEPS: dict[str, set[int]] = {}
_LOCK = threading.Lock()

OTP_FORM = re.compile(r'<form[^>]*id="kc-otp-login-form"[^>]*action="([^"]+)"', re.S)
TOTP_SETUP_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*id="kc-totp-settings-form"', re.S)
HIDDEN_SECRET = re.compile(r'id="totpSecret" name="totpSecret" value="([^"]*)"')


def base32_of(raw_secret: str) -> str:
    """Keycloak's form carries the raw secret; the app (and pyotp) take its base32 form, the one
    the page shows in manual mode."""
    return base64.b32encode(raw_secret.encode()).decode().rstrip("=")


def remember(email: str, base32_secret: str) -> None:
    with _LOCK:
        _SECRETS[email.lower()] = base32_secret.replace(" ", "").upper()
        _USED_STEPS[email.lower()] = set()


def forget(email: str) -> None:
    """The OTP credential was removed (a lost device reset by an admin)."""
    with _LOCK:
        _SECRETS.pop(email.lower(), None)
        _USED_STEPS.pop(email.lower(), None)


def is_enrolled(email: str) -> bool:
    return email.lower() in _SECRETS


def next_code(email: str) -> str:
    """A code Keycloak accepts now for this person and has not seen yet."""
    key = email.lower()
    while True:
        with _LOCK:
            secret = _SECRETS[key]
            used = _USED_STEPS.setdefault(key, set())
            now = int(time.time()) // PERIOD
            # The current step first, then the next one (accepted by the look-ahead window).
            for step in (now, now + 1):
                if step not in used:
                    used.add(step)
                    return str(pyotp.TOTP(secret, interval=PERIOD).at(step * PERIOD))
            wait = PERIOD - time.time() % PERIOD
        time.sleep(wait + 0.05)  # both usable steps spent: the next one starts in `wait` s


def wrong_code(email: str) -> str:
    """Six digits that are none of the codes Keycloak would accept around now."""
    totp = pyotp.TOTP(_SECRETS[email.lower()], interval=PERIOD)
    now = time.time()
    accepted = {totp.at(now + delta * PERIOD) for delta in (-1, 0, 1, 2)}
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in accepted)


# --- the scripted browser (tests/helpers/signin.py) -----------------------------------------------


def answer_scripted(browser: Any, page: Any, email: str) -> Any | None:
    """If `page` (a `requests` response) asks for the second factor, answer it and return the
    answer; None when it is not a second-factor page."""
    text = page.text
    setup = TOTP_SETUP_FORM.search(text)
    if setup is not None:
        secret = HIDDEN_SECRET.search(text)
        assert secret is not None, "secret absent de la page d'enregistrement"
        remember(email, base32_of(html.unescape(secret.group(1))))
        data = {
            "totp": next_code(email),
            "totpSecret": html.unescape(secret.group(1)),
            "userLabel": "Téléphone de test",
        }
        return browser.post(
            html.unescape(setup.group(1)), data=data, allow_redirects=False, timeout=10
        )
    otp = OTP_FORM.search(text)
    if otp is not None and is_enrolled(email):
        return browser.post(
            html.unescape(otp.group(1)),
            data={"otp": next_code(email), "login": "Se connecter"},
            allow_redirects=False,
            timeout=10,
        )
    return None


# --- Chromium (Playwright) ------------------------------------------------------------------

SECOND_FACTOR_PAGES = "#kc-otp-login-form, #kc-totp-settings-form"


def enrol_in_browser(page: Any, email: str) -> None:
    """The CONFIGURE_TOTP page as a person uses it without scanning: « Impossible de scanner ? »,
    the key copied from the page, the app's code typed."""
    page.click("#mode-manual")
    page.wait_for_selector("#kc-totp-secret-key")
    remember(email, page.locator("#kc-totp-secret-key").inner_text())
    page.fill("#totp", next_code(email))
    page.fill("#userLabel", "Téléphone de test")
    page.click("#saveTOTPBtn")


def give_code_in_browser(page: Any, email: str) -> None:
    page.fill("#otp", next_code(email))
    page.click("#kc-login")


def pass_second_factor(page: Any, email: str) -> None:
    """After the password of a staff member: enrol at the first sign-in, else give the code."""
    page.wait_for_selector(SECOND_FACTOR_PAGES)
    if page.locator("#kc-totp-settings-form").count():
        enrol_in_browser(page, email)
    else:
        give_code_in_browser(page, email)


def sign_in_staff(page: Any, portal_url: str, email: str, password: str) -> None:
    """The portal's sign-in for support or a coordinator: password, then the second factor."""
    from tests.e2e.journeys import sign_in

    sign_in(page, portal_url, email, password)
    pass_second_factor(page, email)


def submit_staff_login(page: Any, email: str, password: str) -> None:
    """The login form already open (the admin console's, an expired session's): the same."""
    from tests.e2e.journeys import submit_login

    submit_login(page, email, password)
    pass_second_factor(page, email)
