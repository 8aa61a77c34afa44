"""create_app: configuration layers and refusal to start without secrets."""

from __future__ import annotations

from typing import Any

import pytest

from portal.web.app import REQUIRED_SECRETS, ConfigurationError, create_app
from tests.helpers.settings import TEST_CONFIG


@pytest.mark.parametrize("missing", REQUIRED_SECRETS)
def test_refuses_to_start_without_a_secret(missing: str) -> None:
    config = {key: value for key, value in TEST_CONFIG.items() if key != missing}
    with pytest.raises(ConfigurationError, match=f"COLLECTE_{missing}"):
        create_app(config)


def test_refuses_to_start_with_no_configuration_at_all() -> None:
    with pytest.raises(ConfigurationError) as excinfo:
        create_app()
    for key in REQUIRED_SECRETS:
        assert f"COLLECTE_{key}" in str(excinfo.value)


@pytest.mark.parametrize("missing", REQUIRED_SECRETS)
def test_an_empty_secret_counts_as_missing(missing: str) -> None:
    with pytest.raises(ConfigurationError):
        create_app({**TEST_CONFIG, missing: ""})


def test_the_public_address_has_no_default() -> None:
    with pytest.raises(ConfigurationError, match="PORTAL_URL"):
        create_app({key: "x" for key in REQUIRED_SECRETS})


def test_defaults() -> None:
    secrets = {key: "x" for key in REQUIRED_SECRETS}
    config = create_app({**secrets, "PORTAL_URL": "https://collecte.example.fr"}).config
    assert config["KEYCLOAK_URL"] == "http://localhost:8080"
    assert config["KEYCLOAK_REALM"] == "collecte"
    assert config["OIDC_CLIENT_ID"] == "collecte-portail"
    assert config["ADMIN_CLIENT_ID"] == "collecte-portail-admin"
    assert config["KEYCLOAK_TIMEOUT"] == 5
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLECTE_SECRET_KEY", "0123456789")
    monkeypatch.setenv("COLLECTE_OIDC_CLIENT_SECRET", "true")
    monkeypatch.setenv("COLLECTE_ADMIN_CLIENT_SECRET", "s3cr3t")
    monkeypatch.setenv("COLLECTE_SESSION_COOKIE_SECURE", "false")
    monkeypatch.setenv("COLLECTE_KEYCLOAK_TIMEOUT", "10")
    monkeypatch.setenv("COLLECTE_KEYCLOAK_URL", "https://auth.example.fr")
    monkeypatch.setenv("COLLECTE_PORTAL_URL", "http://localhost:5000")

    config = create_app().config

    # Secrets are taken verbatim, never JSON-decoded into numbers or booleans.
    assert config["SECRET_KEY"] == "0123456789"
    assert config["OIDC_CLIENT_SECRET"] == "true"
    assert config["ADMIN_CLIENT_SECRET"] == "s3cr3t"
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["KEYCLOAK_TIMEOUT"] == 10
    assert config["KEYCLOAK_URL"] == "https://auth.example.fr"


def test_mapping_overrides_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLECTE_KEYCLOAK_REALM", "from-env")
    config = create_app({**TEST_CONFIG, "KEYCLOAK_REALM": "from-mapping"}).config
    assert config["KEYCLOAK_REALM"] == "from-mapping"


@pytest.mark.parametrize("timeout", [0, -1, "5", 2.5, True])
def test_rejects_unusable_timeout(timeout: Any) -> None:
    with pytest.raises(ConfigurationError, match="KEYCLOAK_TIMEOUT"):
        create_app({**TEST_CONFIG, "KEYCLOAK_TIMEOUT": timeout})
