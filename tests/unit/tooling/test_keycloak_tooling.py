"""The server tooling that runs without a server: JDK choice, providers jar, the mail sink."""

from __future__ import annotations

import os
import shutil
import signal
import smtplib
import subprocess
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from collecte_kc import providers, server
from collecte_kc.dist import KEYCLOAK_SHA256, KEYCLOAK_VERSION, keycloak_home
from collecte_kc.mailsink import links, start_sink
from collecte_kc.paths import PROVIDERS_DIR
from collecte_kc.sandbox import _term_unwinds
from tests.helpers.ports import free_port


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


@pytest.mark.parametrize(("asked", "heap"), [(None, server.DEV_HEAP), ("-Xmx3g", "-Xmx3g")])
def test_keycloak_gets_the_dev_heap_unless_the_environment_names_one(
    tmp_path, monkeypatch, asked, heap
):
    """kc.sh's own default outside a container (-Xmx512m) made an import spend much of
    Keycloak's processor collecting garbage (collecte_kc.server.DEV_HEAP)."""
    started = {}

    def popen(command, env, **kwargs):
        started.update(env)
        return None

    if asked is None:
        monkeypatch.delenv("JAVA_OPTS_KC_HEAP", raising=False)
    else:
        monkeypatch.setenv("JAVA_OPTS_KC_HEAP", asked)
    monkeypatch.setattr(server.KeycloakServer, "_prepare_home", lambda self: tmp_path)
    monkeypatch.setattr(server, "find_java_home", lambda: tmp_path)
    monkeypatch.setattr(server.subprocess, "Popen", popen)
    keycloak = server.KeycloakServer(data_dir=tmp_path / "donnees", bootstrap_client_secret="s")
    keycloak.start()
    assert started["JAVA_OPTS_KC_HEAP"] == heap


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


def test_providers_digest_follows_the_sources(tmp_path):
    shutil.copytree(PROVIDERS_DIR / "src" / "main", tmp_path / "main")
    before = providers.sources_digest(tmp_path / "main")
    assert providers.sources_digest(tmp_path / "main") == before
    java = next((tmp_path / "main" / "java").rglob("*.java"))
    java.write_text(java.read_text("utf-8") + "// changé\n", "utf-8")
    assert providers.sources_digest(tmp_path / "main") != before


def test_providers_jar_is_built_once_per_version_of_the_sources(tmp_path, monkeypatch):
    stale = tmp_path / "collecte-providers-0000000000000000.jar"
    stale.touch()
    jar = providers.ensure_providers_jar(
        keycloak_home(), server.find_java_home(), cache_dir=tmp_path
    )
    assert jar.name == f"collecte-providers-{providers.sources_digest()}.jar"
    assert not stale.exists()
    with zipfile.ZipFile(jar) as built:
        names = built.namelist()
        services = "META-INF/services/org.keycloak.authentication"
        service = f"{services}.AuthenticatorFactory"
        assert "fr/collecte/keycloak/PaddedResetCredentialEmail.class" in names
        assert built.read(service).split() == [
            b"fr.collecte.keycloak.PaddedResetCredentialEmail",
            b"fr.collecte.keycloak.NoPerimeterCondition",
        ]
        handler = "fr.collecte.keycloak.LatestInvitationActionTokenHandler"
        handlers = f"{services}.actiontoken.ActionTokenHandlerFactory"
        assert f"{handler.replace('.', '/')}.class" in names
        assert built.read(handlers).split() == [handler.encode()]

    def no_tools(*args: object, **kwargs: object) -> None:
        raise AssertionError("sources inchangées : rien à recompiler")

    monkeypatch.setattr(subprocess, "run", no_tools)
    assert providers.ensure_providers_jar(keycloak_home(), tmp_path, cache_dir=tmp_path) == jar


def test_providers_jar_replaces_older_builds_and_keeps_an_unchanged_one(tmp_path):
    jar = tmp_path / "collecte-providers-bbbb.jar"
    jar.write_bytes(b"nouveau")
    target = tmp_path / "providers"
    target.mkdir()
    (target / "collecte-providers-aaaa.jar").write_bytes(b"ancien")
    (target / "autre-provider.jar").write_bytes(b"autre")

    providers.install_providers_jar(jar, target)
    installed = target / jar.name
    assert sorted(p.name for p in target.iterdir()) == ["autre-provider.jar", jar.name]
    # Keycloak re-augments when a provider's date changes: an unchanged jar is not copied again.
    os.utime(installed, (1_000_000, 1_000_000))
    providers.install_providers_jar(jar, target)
    assert installed.stat().st_mtime == 1_000_000 and installed.read_bytes() == b"nouveau"


def test_providers_build_asks_for_a_full_jdk_when_javac_is_missing(tmp_path):
    with pytest.raises(providers.ProviderBuildError, match="JDK complet"):
        providers.ensure_providers_jar(tmp_path, tmp_path / "jre", cache_dir=tmp_path / "cache")


def test_a_term_signal_unwinds_the_sandbox_so_that_keycloak_is_stopped():
    """Killed by a CI time limit, the test session still runs the sandbox's `finally`."""
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exited, _term_unwinds():
        os.kill(os.getpid(), signal.SIGTERM)
        pytest.fail("the TERM signal was not turned into an exit")
    assert exited.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before
