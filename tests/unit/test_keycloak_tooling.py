"""The server tooling that runs without a server: JDK choice, the mail sink."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from collecte_kc import server
from collecte_kc.dist import KEYCLOAK_SHA256, KEYCLOAK_VERSION
from collecte_kc.mailsink import links, start_sink
from tests.ports import free_port


def _fake_jdk(root: Path, name: str) -> Path:
    (root / name / "bin").mkdir(parents=True)
    (root / name / "bin" / "java").touch()
    return root / name


def test_newest_supported_jdk_wins(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(server, "JVM_ROOT", tmp_path)
    _fake_jdk(tmp_path, "java-17-openjdk-amd64")
    newest = _fake_jdk(tmp_path, "temurin-25-jdk-amd64")
    assert server.find_java_home() == newest


def test_java_home_from_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    assert server.find_java_home() == tmp_path


def test_distribution_is_pinned():
    assert KEYCLOAK_VERSION == "26.7.3"
    assert len(KEYCLOAK_SHA256) == 64


def test_start_refuses_without_a_bootstrap_secret(tmp_path):
    with pytest.raises(server.KeycloakStartError):
        server.KeycloakServer(data_dir=tmp_path).start()


def test_mail_sink_receives_over_smtp_and_finds_action_links():
    port = free_port()
    sink, controller = start_sink(port=port)
    message = EmailMessage()
    message["From"] = "ne-pas-repondre@collecte.localhost"
    message["To"] = "marie.dupont@demoville.fr"
    message["Subject"] = "Invitation"
    message.set_content(
        "Lien : http://localhost:8080/realms/collecte/login-actions/action-token?key=abc&x=1"
    )
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            client.send_message(message)
        received = sink.wait_for("Marie.Dupont@demoville.fr", timeout=5)
        assert links(received) == [
            "http://localhost:8080/realms/collecte/login-actions/action-token?key=abc&x=1"
        ]
        with pytest.raises(TimeoutError):
            sink.wait_for("personne@exemple.fr", timeout=0.2)
    finally:
        controller.stop()
