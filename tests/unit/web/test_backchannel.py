"""Back-channel logout: the logout token is checked as the specification asks, then the
matching portal sessions are deleted (keys generated here, Keycloak mocked)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import responses
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from portal.web import backchannel, sessions
from portal.web.backchannel import LOGOUT_EVENT, RealmKeys
from tests.helpers.settings import ISSUER, JWKS_URI, TOKEN_ENDPOINT

from .test_auth import id_token_for, start_sign_in

LOGOUT_URL = "/auth/backchannel-logout"
SUB = "7f1c2a9e-0000-4000-8000-000000000001"
KEYCLOAK_SID = "sid-keycloak-1"


@pytest.fixture(scope="module")
def realm_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "cle-du-realm", "use": "sig"})


def logout_token(
    key: RSAKey | OctKey,
    overrides: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    alg: str = "RS256",
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "collecte-portail",
        "sub": SUB,
        "sid": KEYCLOAK_SID,
        "iat": now,
        "exp": now + 300,
        "jti": "jeton-1",
        "typ": "Logout",
        "events": {LOGOUT_EVENT: {}},
    }
    claims.update(overrides or {})
    for name in drop:
        claims.pop(name)
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def signed_in_through_keycloak(
    client: FlaskClient, kc: responses.RequestsMock, key: RSAKey, sid: str = KEYCLOAK_SID
) -> None:
    """The real callback, with an ID token naming the Keycloak session `sid`."""
    authorization = start_sign_in(client)
    kc.post(
        TOKEN_ENDPOINT,
        json={
            "access_token": "a",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token_for(key, authorization["nonce"], {"sid": sid}),
        },
    )
    client.get("/auth/callback", query_string={"code": "c", "state": authorization["state"]})
    assert signed_in(client)


def signed_in(client: FlaskClient) -> bool:
    return "Connecté en tant que" in client.get("/").get_data(as_text=True)


@pytest.fixture
def jwks(kc: responses.RequestsMock, discovery: dict[str, Any], realm_key: RSAKey) -> None:
    # Fetched once, at the sign-in's ID token check, then kept: never per logout request.
    kc.get(JWKS_URI, json={"keys": [realm_key.as_dict(private=False)]})


def test_a_valid_logout_token_ends_the_portal_session(
    client: FlaskClient, kc: responses.RequestsMock, jwks: None, realm_key: RSAKey
) -> None:
    signed_in_through_keycloak(client, kc, realm_key)
    keycloak = client.application.test_client()  # Keycloak: no cookie, no CSRF token

    answer = keycloak.post(LOGOUT_URL, data={"logout_token": logout_token(realm_key)})

    assert answer.status_code == 200
    assert not signed_in(client)
    assert answer.headers["Cache-Control"] == "no-store"
    assert [call.request.url for call in kc.calls].count(JWKS_URI) == 1


def test_a_logout_token_ends_only_the_named_keycloak_session(
    client: FlaskClient, kc: responses.RequestsMock, jwks: None, realm_key: RSAKey
) -> None:
    signed_in_through_keycloak(client, kc, realm_key, sid="une-session")
    other = client.application.test_client()
    signed_in_through_keycloak(other, kc, realm_key, sid="une-autre-session")

    answer = client.application.test_client().post(
        LOGOUT_URL, data={"logout_token": logout_token(realm_key, {"sid": "une-session"})}
    )

    assert answer.status_code == 200
    assert not signed_in(client)
    assert signed_in(other)


def test_a_logout_token_without_sid_ends_every_session_of_the_user(
    client: FlaskClient, kc: responses.RequestsMock, jwks: None, realm_key: RSAKey
) -> None:
    signed_in_through_keycloak(client, kc, realm_key, sid="une-session")
    other = client.application.test_client()
    signed_in_through_keycloak(other, kc, realm_key, sid="une-autre-session")

    answer = client.application.test_client().post(
        LOGOUT_URL, data={"logout_token": logout_token(realm_key, drop=("sid",))}
    )

    assert answer.status_code == 200
    assert not signed_in(client)
    assert not signed_in(other)


USER_INDEX = f"collecte-index:sub:{SUB}"  # portal.web.sessions: the user's portal sessions


def test_the_users_index_forgets_sessions_past_their_maximum_lifetime(
    client: FlaskClient, kc: responses.RequestsMock, jwks: None, realm_key: RSAKey
) -> None:
    """One entry per sign-in in the user's index, dropped at a later sign-in once the session it
    names cannot be alive any more (older than SESSION_MAX_LIFETIME): it does not grow for ever."""
    app = client.application
    now = int(time.time())
    with app.app_context():
        store = sessions.store()
        lifetime = int(app.config["SESSION_MAX_LIFETIME"])
        store.set(USER_INDEX, {"finie": now - lifetime - 1, "en-cours": now - 60})

    signed_in_through_keycloak(client, kc, realm_key)

    with app.app_context():
        index = store.get(USER_INDEX)
    assert set(index) - {"en-cours"} == {client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value}
    assert "finie" not in index


def test_an_index_written_before_the_times_were_kept_still_ends_its_sessions(
    client: FlaskClient, kc: responses.RequestsMock, jwks: None, realm_key: RSAKey
) -> None:
    signed_in_through_keycloak(client, kc, realm_key)
    app = client.application
    with app.app_context():
        sessions.store().set(USER_INDEX, list(sessions.store().get(USER_INDEX)))

    answer = app.test_client().post(
        LOGOUT_URL, data={"logout_token": logout_token(realm_key, drop=("sid",))}
    )

    assert answer.status_code == 200
    assert not signed_in(client)


def forged(realm_key: RSAKey) -> str:
    forger = RSAKey.generate_key(2048, parameters={"kid": realm_key.kid})
    return logout_token(forger)


@pytest.mark.parametrize(
    "make_token",
    [
        forged,
        lambda key: logout_token(key, {"aud": "un-autre-client"}),
        lambda key: logout_token(key, {"iss": "http://evil.example/realms/collecte"}),
        lambda key: logout_token(key, {"events": {}}),
        lambda key: logout_token(key, {"events": {"http://example.org/autre": {}}}),
        lambda key: logout_token(key, drop=("events",)),
        lambda key: logout_token(key, {"nonce": "n"}),
        lambda key: logout_token(key, drop=("iat",)),
        lambda key: logout_token(key, {"iat": int(time.time()) - 3600}),
        lambda key: logout_token(key, {"exp": int(time.time()) - 3600}),
        lambda key: logout_token(key, drop=("sid", "sub")),
        # An HMAC token under the realm key's id: only asymmetric signatures count.
        lambda key: logout_token(OctKey.import_key(b"0" * 32, {"kid": key.kid}), alg="HS256"),
        lambda key: "pas.un.jeton",
        lambda key: "",
    ],
    ids=[
        "bad-signature",
        "wrong-aud",
        "wrong-iss",
        "no-event",
        "other-event",
        "no-events-claim",
        "nonce-present",
        "no-iat",
        "too-old",
        "expired",
        "neither-sid-nor-sub",
        "hmac",
        "garbage",
        "missing",
    ],
)
def test_an_invalid_logout_token_is_refused_and_ends_nothing(
    client: FlaskClient,
    kc: responses.RequestsMock,
    jwks: None,
    realm_key: RSAKey,
    make_token: Any,
) -> None:
    signed_in_through_keycloak(client, kc, realm_key)

    answer = client.application.test_client().post(
        LOGOUT_URL, data={"logout_token": make_token(realm_key)}
    )

    assert answer.status_code == 400
    assert answer.get_json() == {"error": "invalid_request"}
    assert signed_in(client)


def test_the_endpoint_takes_only_post(client: FlaskClient) -> None:
    assert client.get(LOGOUT_URL).status_code == 405


# --- the realm's keys: cached, refreshed for an unknown key id at most once a minute ----------


class Jwks:
    """Like Authlib's fetcher: the keys read at the first call are kept until forced."""

    def __init__(self, *keys: RSAKey) -> None:
        self.keys = list(keys)
        self.fetches: list[bool] = []
        self.cached: dict[str, Any] | None = None

    def __call__(self, force: bool) -> dict[str, Any]:
        self.fetches.append(force)
        if force or self.cached is None:
            self.cached = {"keys": [key.as_dict(private=False) for key in self.keys]}
        return self.cached


def test_a_new_realm_key_is_fetched_once_then_throttled(realm_key: RSAKey) -> None:
    rotated = RSAKey.generate_key(2048, parameters={"kid": "nouvelle-cle"})
    jwks = Jwks(realm_key)
    clock = [1000.0]
    keys = RealmKeys(jwks, clock=lambda: clock[0], interval=60)
    check = {"issuer": ISSUER, "client_id": "collecte-portail"}

    assert keys.validate(logout_token(realm_key), **check).sid == KEYCLOAK_SID
    jwks.keys.append(rotated)  # Keycloak rotated its keys
    assert keys.validate(logout_token(rotated), **check).sub == SUB
    assert jwks.fetches == [False, False, True]

    # Tokens naming unknown keys do not make the portal fetch the keys again and again.
    stranger = RSAKey.generate_key(2048, parameters={"kid": "inconnue"})
    for _ in range(5):
        with pytest.raises(ValueError):
            keys.validate(logout_token(stranger), **check)
    assert jwks.fetches.count(True) == 1
    clock[0] += 61
    with pytest.raises(ValueError):
        keys.validate(logout_token(stranger), **check)
    assert jwks.fetches.count(True) == 2


def test_the_key_set_is_built_once_per_fetched_jwks(
    realm_key: RSAKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building the key set costs as much as checking a signature: it is built again only when
    the fetcher gives other keys (a refresh), not for each token."""
    built: list[object] = []
    build = backchannel._key_set
    monkeypatch.setattr(backchannel, "_key_set", lambda jwks: built.append(jwks) or build(jwks))
    rotated = RSAKey.generate_key(2048, parameters={"kid": "nouvelle-cle"})
    jwks = Jwks(realm_key)
    keys = RealmKeys(jwks)
    check = {"issuer": ISSUER, "client_id": "collecte-portail"}

    for _ in range(3):
        keys.validate(logout_token(realm_key), **check)
    assert len(built) == 1
    jwks.keys.append(rotated)
    assert keys.validate(logout_token(rotated), **check).sub == SUB
    assert len(built) == 2  # the kept set knew no such key: the refreshed one is built
    keys.validate(logout_token(rotated), **check)
    assert len(built) == 2
