"""The gateway is shared by every request thread: when its service-account token expires, the
threads that notice it at once fetch ONE new token (python-keycloak takes no lock around its
refresh; ``portal.core.keycloak.connection.SharedConnection`` does)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import responses
from flask import Flask
from requests import PreparedRequest

from portal.core.keycloak.gateway import KeycloakGateway
from tests.helpers.settings import TOKEN_ENDPOINT

from .test_gateway import CAMILLE, mock_user_search

THREADS = 4


def test_threads_that_find_the_token_expired_fetch_one_new_token(
    app: Flask, kc: responses.RequestsMock
) -> None:
    fetched: list[int] = []
    another_fetch = threading.Event()

    def token(request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        fetched.append(1)
        if len(fetched) > 2:
            another_fetch.set()
        elif len(fetched) == 2:
            # The first refresh waits for a second one (without the lock, another thread is
            # already on its way); with the lock none comes, and it goes on after a second.
            another_fetch.wait(timeout=1)
        body = {"access_token": f"jeton-{len(fetched)}", "expires_in": 300, "token_type": "Bearer"}
        return 200, {}, json.dumps(body)

    kc.add_callback(responses.POST, TOKEN_ENDPOINT, callback=token)
    mock_user_search(kc, "camille.martin@example.fr", [CAMILLE])
    gateway = KeycloakGateway.from_config(app.config)
    gateway.find_person_by_email("camille.martin@example.fr")  # the first token
    gateway._admin.connection._expires_at = datetime.now(tz=UTC) - timedelta(seconds=1)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def search() -> None:
        start.wait()
        try:
            gateway.find_person_by_email("camille.martin@example.fr")
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=search) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not errors
    assert len(fetched) == 2  # the first token, then one refresh for all the threads
