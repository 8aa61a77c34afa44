"""What the diagnosis and history tests share (test_support_diagnosis.py,
test_support_reinvite_unlock_history.py): the dates Keycloak reports, and a person invited an
hour ago who has not activated their account."""

from __future__ import annotations

import time

from tests.helpers.admin_api_json import SCOPE_A, user_json

NOW = int(time.time())
WEEK = 7 * 24 * 3600
PASSWORD_SET = 1795000000000  # 18/11/2026 à 12:06 (heure de Paris), in epoch milliseconds
LOGGED_IN = 1795881002000  # 28/11/2026 à 16:50 (heure de Paris)
INVITED = {
    **user_json(
        "i0000000-0000-4000-8000-00000000000i",
        "ines.invitee@demoville.fr",
        "Inès",
        "Invitée",
        collecte=[SCOPE_A],
        invitationEnvoyeeLe=[str(NOW - 3600)],
        invitationExpireLe=[str(NOW - 3600 + WEEK)],
    ),
    "emailVerified": False,
    "requiredActions": ["TERMS_AND_CONDITIONS", "VERIFY_EMAIL"],
}
INVITED_ID = INVITED["id"]
