"""python-keycloak's async client is not built by the portal's connections (it costs 3.5 MiB per
worker and is never used), yet still works if something uses it
(``portal.core.keycloak.lazy_async``)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import responses
from flask import Flask

from portal.core.keycloak.gateway import KeycloakGateway
from portal.core.keycloak.lazy_async import LazyAsyncClient
from tests.helpers.settings import TOKEN_ENDPOINT

from .test_gateway import CAMILLE, mock_user_search


def test_the_portal_connections_build_no_async_client(
    app: Flask, kc: responses.RequestsMock
) -> None:
    kc.add(
        responses.POST,
        TOKEN_ENDPOINT,
        json={"access_token": "jeton", "expires_in": 300, "token_type": "Bearer"},
    )
    mock_user_search(kc, "camille.martin@example.fr", [CAMILLE])
    gateway = KeycloakGateway.from_config(app.config)
    gateway.find_person_by_email("camille.martin@example.fr")  # the token fetched, then a read
    connection = gateway._admin.connection
    for client in (connection.async_s, connection.keycloak_openid.connection.async_s):
        assert isinstance(client, LazyAsyncClient)
        assert not client.built


def test_the_async_client_is_built_at_first_use_with_what_was_set_on_it() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"auth": request.headers.get("Authorization")})

    client = LazyAsyncClient(transport=httpx.MockTransport(answer), timeout=5)
    client.auth = None  # as python-keycloak does right after building it
    assert not client.built

    # in a thread of its own: the browser tests leave an event loop running in this one
    with ThreadPoolExecutor(1) as thread:
        response = thread.submit(asyncio.run, client.get("http://keycloak.invalid/")).result()

    assert client.built
    assert response.json() == {"auth": None}
    assert client.timeout == httpx.Timeout(5)
