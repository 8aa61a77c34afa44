"""What the import page's test modules share: its address, the CSV header, a coordinator of
another groupement, and the Admin API answers (and the upload) they all start from."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from flask.testing import FlaskClient
from responses import matchers
from werkzeug.test import TestResponse

from portal.web.imports import jobs
from tests.helpers.admin_api import AdminApi
from tests.helpers.admin_api_json import GROUPEMENT, user_json
from tests.helpers.settings import ADMIN_REALM_URL, ADMIN_USERS_URL

SignIn = Callable[[Mapping[str, Any]], None]
URL = f"/coordination/{GROUPEMENT}/import"
HEADER = "email;nom;prénom;téléphone;siren;raison sociale;lots;fonction"
OTHER_COORDINATOR = user_json(
    "c0000000-0000-4000-8000-0000000000cc", "paul.nord@groupement-nord.fr", "Paul", "Nord"
)


def staff_groups(api: AdminApi, person_id: str, *codes: str) -> None:
    groups = [{"id": f"m-{c}", "name": c, "path": f"/coordonnateurs/{c}"} for c in codes]
    query = {"briefRepresentation": "True", "first": "0", "max": "100"}
    api.kc.get(
        f"{ADMIN_USERS_URL}/{person_id}/groups",
        json=groups,
        match=[matchers.query_param_matcher(query)],
    )


def upload(client: FlaskClient, csrf: str, *lines: str, name: str = "membres.csv") -> TestResponse:
    data = ("\n".join([HEADER, *lines]) + "\n").encode()
    return client.post(
        URL,
        data={"csrf_token": csrf, "fichier": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def groupement_state(api: AdminApi, people: list[dict[str, Any]], groups: list[Any]) -> None:
    """The groupement, its adherents, the realm's user count and one search per e-mail."""
    api.kc.get(
        f"{ADMIN_REALM_URL}/group-by-path/{GROUPEMENT}",
        json={"id": "g-groupement", "name": GROUPEMENT},
    )
    api.kc.get(f"{ADMIN_REALM_URL}/groups/g-groupement/children", json=groups)
    api.kc.get(f"{ADMIN_USERS_URL}/count", json=3)
    known = [person for person in people if "id" in person]
    for group in groups if known else []:
        # The members of the adherents of known people (portal.core.authority: membership counts).
        members = [{"id": p["id"]} for p in known if group["name"] in str(p.get("attributes"))]
        api.kc.get(f"{ADMIN_REALM_URL}/groups/{group['id']}/members", json=members)
    for person in people:
        query = {"email": person["email"], "exact": "true", "first": "0", "max": "2"}
        api.kc.get(
            ADMIN_USERS_URL,
            json=[person] if "id" in person else [],
            match=[matchers.query_param_matcher(query)],
        )


def save_job(groupement: str = GROUPEMENT, **changes: Any) -> str:
    job = jobs.Job(secrets.token_urlsafe(24), groupement, "membres.csv", 2, **changes)
    jobs.save(job)
    return job.id
