"""The French login theme's own messages (a theme file, not an extension's source).

What our Keycloak extensions do is tested against the real server (tests/integration,
tests/e2e; the README table « Gardes et mutations »), never by reading their Java source.
"""

from __future__ import annotations

import re

from collecte_kc.paths import THEMES_DIR

LOGIN_MESSAGES = THEMES_DIR / "collecte" / "login" / "messages" / "messages_fr.properties"


def _messages() -> dict[str, str]:
    entries = {}
    for line in LOGIN_MESSAGES.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            entries[key.strip()] = value.strip()
    return entries


def test_replaced_invitation_message_is_in_french():
    # Messages go through java.text.MessageFormat: an apostrophe is written ''.
    value = _messages()["collecteInvitationRemplacee"]
    assert re.search(r"(?<!')'(?!')", value) is None, "apostrophe simple : MessageFormat l'efface"
    assert value.replace("''", "'") == (
        "Ce lien d'invitation a été remplacé par un plus récent : utilisez le dernier e-mail "
        "d'invitation reçu, ou demandez-en un nouveau au support."
    )


def test_terms_version_messages_are_in_french():
    messages = _messages()
    assert messages["collecteCguVersion"] == "Version {0} des CGU"
    assert messages["collecteCguMiseAJour"].startswith("Les CGU ont été mises à jour")
    for key in ("collecteCguVersion", "collecteCguMiseAJour"):
        assert re.search(r"(?<!')'(?!')", messages[key]) is None, key
