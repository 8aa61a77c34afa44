"""The unit tests' fake Admin API answers as the real Keycloak does: each case of
tests/helpers/admin_api_cases.py is sent to the session's Keycloak, as the portal's own service
account, and to the fake; both must give what Keycloak 26.7.3 gave when the cases were written. When
Keycloak (or the realm's profile) changes, this fails and the fake is changed with it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import responses
from keycloak import KeycloakAdmin

from portal.core.keycloak.gateway import KeycloakGateway
from tests.helpers.admin_api_cases import CASES, Case, FakeApi, Reply, reply

pytestmark = pytest.mark.keycloak


class KeycloakApi:
    """The real server, through the connection the gateway uses (same account, same token)."""

    def __init__(self, admin: KeycloakAdmin) -> None:
        self.connection = admin.connection

    def post(self, path: str, body: Mapping[str, Any]) -> Reply:
        return reply(self.connection.raw_post(path, data=_json(body)))

    def put(self, path: str, body: Mapping[str, Any]) -> Reply:
        return reply(self.connection.raw_put(path, data=_json(body)))

    def get(self, path: str) -> Reply:
        return reply(self.connection.raw_get(path))


def _json(body: Mapping[str, Any]) -> str:
    return json.dumps(body)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_keycloak_and_the_fake_answer_alike(
    platform: Any, unique_email: Callable[[str], str], case: Case
) -> None:
    gateway = KeycloakGateway.from_config(platform.portal_config)
    real = case.run(KeycloakApi(gateway._admin), unique_email("contrat"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as kc:
        fake = case.run(FakeApi(kc, "http://keycloak.test"), unique_email("contrat"))
    assert real == case.expected
    assert fake == real
