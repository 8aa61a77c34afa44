"""The fake Admin API of the unit tests gives, for each case of tests/helpers/admin_api_cases.py,
what Keycloak 26.7.3 gives (the contract test holds the expectations against the real server)."""

from __future__ import annotations

import uuid

import pytest
import responses

from tests.helpers.admin_api_cases import CASES, Case, FakeApi
from tests.helpers.settings import KEYCLOAK_URL


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_fake_answers_as_keycloak(kc: responses.RequestsMock, case: Case) -> None:
    email = f"contrat-{uuid.uuid4().hex[:10]}@exemple-adherent.fr"
    try:
        assert case.run(FakeApi(kc, KEYCLOAK_URL), email) == case.expected
    finally:
        for unused in [r for r in kc.registered() if r.call_count == 0]:
            kc.remove(unused)  # a case need not read nor update
