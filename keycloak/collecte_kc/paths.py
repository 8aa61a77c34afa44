"""Where the project keeps what it fetches and what the servers write (all ignored by git)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KEYCLOAK_DIR = PROJECT_ROOT / "keycloak"
THEMES_DIR = KEYCLOAK_DIR / "themes"
PROVIDERS_DIR = KEYCLOAK_DIR / "providers"
# Common passwords refused by the realm's passwordBlacklist policy (copied to
# <keycloak>/data/password-blacklists, the folder Keycloak reads).
PASSWORD_BLACKLISTS_DIR = KEYCLOAK_DIR / "password-blacklists"
REALM_FILE = PROJECT_ROOT / "realm-export.json"
USER_PROFILE_FILE = KEYCLOAK_DIR / "user-profile.json"
CGU_FILE = KEYCLOAK_DIR / "cgu" / "cgu-fr.html"
CGU_VERSION_FILE = KEYCLOAK_DIR / "cgu" / "VERSION"
CACHE_DIR = PROJECT_ROOT / ".cache"
DATA_DIR = PROJECT_ROOT / ".data"
