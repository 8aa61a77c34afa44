"""The portal's own mail: sent through the relay production uses (STARTTLS, an account)."""

from __future__ import annotations

import smtplib
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, ClassVar

import pytest

from portal import defaults
from portal.core.notify import Mailer
from portal.web.app import create_app
from tests.helpers.mail import FakeSMTP
from tests.helpers.settings import TEST_CONFIG


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> type[FakeSMTP]:
    class Relay(FakeSMTP):
        outbox: ClassVar[list[EmailMessage]] = []
        steps: ClassVar[list[tuple[str, ...]]] = []

    monkeypatch.setattr(smtplib, "SMTP", Relay)
    return Relay


def mailer(**overrides: Any) -> Mailer:
    return Mailer({**vars(defaults), "KEYCLOAK_TIMEOUT": 5, **overrides})


def test_the_dev_sink_is_used_as_it_is(relay: type[FakeSMTP]) -> None:
    mailer().send("support@collecte.test", "Objet", "Corps")
    assert relay.steps == []
    assert len(relay.outbox) == 1


def test_a_production_relay_gets_starttls_then_the_account(relay: type[FakeSMTP]) -> None:
    mailer(SMTP_STARTTLS=True, SMTP_USER="portail", SMTP_PASSWORD="0123").send(
        "support@collecte.test", "Objet", "Corps"
    )
    assert relay.steps == [("starttls",), ("login", "portail", "0123")]
    assert len(relay.outbox) == 1


def test_the_smtp_account_is_read_verbatim_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLLECTE_SMTP_PASSWORD", "000123")
    monkeypatch.setenv("COLLECTE_SMTP_STARTTLS", "true")
    app = create_app(TEST_CONFIG)
    assert app.config["SMTP_PASSWORD"] == "000123"
    assert app.config["SMTP_STARTTLS"] is True


def test_a_long_french_subject_reaches_the_reader_as_written(relay: type[FakeSMTP]) -> None:
    subject = "Nouvelles conditions générales d’utilisation à accepter — version 2026-12"
    mailer().send("marie@commune.fr", subject, "Corps accentué : é à ç")
    received = message_from_bytes(relay.outbox[0].as_bytes(), policy=policy.default)
    assert received["Subject"] == subject
    assert received.get_body(("plain",)).get_content() == "Corps accentué : é à ç\n"
