"""Fixtures of the Suivi des activations' tests."""

from __future__ import annotations

import pytest

from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT

from ._support import COORDINATOR, SignIn, staff_groups


@pytest.fixture
def coordinator(admin_api: AdminApi, sign_in_as: SignIn) -> AdminApi:
    admin_api.token()
    admin_api.roles(COORDINATOR["id"], "coordonnateur", "equipe-plateforme")
    staff_groups(admin_api, COORDINATOR["id"], GROUPEMENT)
    sign_in_as(COORDINATOR)
    return admin_api
