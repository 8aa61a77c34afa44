"""Each of our Keycloak extensions is loaded by the server, under the id the realm names.

Keycloak finds factories through the `META-INF/services` files (ServiceLoader); a class left out
of them, or an id the realm does not use, would silently leave a rule unapplied. The server's own
report (`GET /admin/serverinfo`, providers per SPI) says what it loaded. What each extension does
is tested by its behaviour elsewhere (see the README table « Gardes et mutations »); the ones
that replace a built-in factory under the same id report their higher order here.
"""

from __future__ import annotations

from typing import Any

import pytest

# SPI id (as server info names it) -> our provider id.
OURS = [
    ("authenticator", "collecte-reset-credential-email"),
    ("authenticator", "collecte-condition-sans-perimetre"),
    ("protocol-mapper", "collecte-perimetres"),
    ("eventsListener", "collecte-permissions-coordonnateurs"),
    ("eventsListener", "collecte-fin-des-sessions"),
    ("eventsListener", "collecte-revisions"),
    ("eventsListener", "collecte-changements"),
    ("password-policy", "collecteMotDePasseParUtilisateur"),
    ("validator", "collecte-fonction-du-groupement"),
    ("validator", "collecte-tenu-par-le-portail"),
    ("validator", "collecte-email-protege"),
    ("validator", "collecte-revision"),
    ("admin-realm-restapi-extension", "collecte-revisions"),
]
# Built-in ids we replace (same id, higher order: Keycloak keeps the highest).
REPLACED = [
    ("required-action", "TERMS_AND_CONDITIONS"),
    ("actionTokenHandler", "execute-actions"),
    ("credential", "keycloak-password"),
]


@pytest.fixture(scope="module")
def providers(platform: Any) -> dict[str, Any]:
    return dict(platform.admin.get_server_info()["providers"])


@pytest.mark.parametrize(("spi", "provider_id"), OURS)
def test_our_provider_is_loaded_by_keycloak(providers, spi, provider_id):
    assert provider_id in providers[spi]["providers"], sorted(providers[spi]["providers"])


@pytest.mark.parametrize(("spi", "provider_id"), REPLACED)
def test_our_factory_replaces_keycloaks_under_the_same_id(providers, spi, provider_id):
    assert providers[spi]["providers"][provider_id]["order"] >= 1


def test_the_realm_uses_our_password_policy_beside_keycloaks_own(platform):
    policy = platform.admin.get_realm("collecte")["passwordPolicy"]
    policies = {part.strip() for part in policy.split(" and ")}
    assert "collecteMotDePasseParUtilisateur" in policies
    assert {"length(12)", "notUsername", "notEmail", "passwordHistory(5)"} <= policies
