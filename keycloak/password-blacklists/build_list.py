"""Build `collecte-mots-de-passe-courants.txt`, the list Keycloak's `passwordBlacklist` policy
reads (realm-export.json). Run once by hand when the list changes, in a throwaway environment
that has the PyPI package zxcvbn 4.5.0 (MIT), whose `passwords` list is the 30,000 most frequent
passwords of a public leak corpus:

    python -m venv /tmp/zx && /tmp/zx/bin/pip install zxcvbn==4.5.0
    /tmp/zx/bin/python keycloak/password-blacklists/build_list.py

Only entries of at least 12 characters are kept: the realm's `length(12)` already refuses the
shorter ones. Keycloak compares the password in lower case, so the list is lower case.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

MIN_LENGTH = 12
OUTPUT = Path(__file__).with_name("collecte-mots-de-passe-courants.txt")

# Words people pick in France and on an energy supplier's platform, then pad to 12 characters.
BASE_WORDS = (
    "motdepasse",
    "azertyuiop",
    "azertyuiop",
    "qwertyuiop",
    "bonjour",
    "soleil",
    "marseille",
    "paris",
    "doudou",
    "chouchou",
    "loulou",
    "jetaime",
    "coucou",
    "nicolas",
    "camille",
    "password",
    "welcome",
    "iloveyou",
    "football",
    "sunshine",
    "princess",
    "dragon",
    "master",
    "monkey",
    "letmein",
    "bienvenue",
    "administrateur",
    "admin",
    "utilisateur",
    "secret",
    "collecte",
    "plateforme",
    "groupement",
    "adherent",
    "energie",
    "electricite",
    "mairie",
    "commune",
    "syndicat",
    "communaute",
    "departement",
    "region",
    "france",
    "printemps",
    "hiver",
    "automne",
    "janvier",
    "fevrier",
    "septembre",
    "decembre",
    "changeme",
    "changemoi",
)
SUFFIXES = (
    "",
    "1",
    "12",
    "123",
    "1234",
    "12345",
    "123456",
    "!",
    "1!",
    "123!",
    "1234!",
    "01",
    "2023",
    "2024",
    "2025",
    "2026",
    "2027",
    "2024!",
    "2025!",
    "2026!",
    "2027!",
    "@2025",
    "@2026",
)
SEQUENCES = (
    "123456789012",
    "1234567890123",
    "azerty123456",
    "azertyuiop123",
    "azertyuiop12",
    "aqwzsxedcrfv",
    "azertyqwerty",
    "motdepasse123",
    "motdepasse1234",
    "000000000000",
    "111111111111",
    "123123123123",
    "abcdefghijkl",
    "abc123abc123",
    "qwerty123456",
)


def zxcvbn_passwords() -> list[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-not-found]

    return [str(word) for word in FREQUENCY_LISTS["passwords"]]


def build() -> list[str]:
    candidates = [*zxcvbn_passwords(), *SEQUENCES]
    for word, suffix in product(BASE_WORDS, SUFFIXES):
        candidates.append(word + suffix)
    kept = {word.lower() for word in candidates if len(word) >= MIN_LENGTH}
    return sorted(kept)


if __name__ == "__main__":
    words = build()
    OUTPUT.write_text("".join(f"{word}\n" for word in words), encoding="utf-8")
    print(f"{len(words)} mots de passe dans {OUTPUT}")
