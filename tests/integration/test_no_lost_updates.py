"""No lost updates (issue 10): two writers of one person or one adherent, against the real
Keycloak. Keycloak's Admin API has no ETag: every write of a user sends back the `revision` it
read (checked by the user profile, RevisionValidator), every write of an adherent's group goes
through the conditional endpoint `collecte-revisions` (RevisionedGroupResource), and each change
gives a new revision (RevisionListener). The portal then reads again and redoes its change:
both effects, or a clear refusal, never a silent loss.

The races are made deterministic by running the second writer between the first one's read and
its write (`between_read_and_write`), and made real with threads started together."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakPutError

from portal.core.domain import Change, ContactDetails, Function, Scope
from portal.core.keycloak.admin_permissions import ensure_admin_permissions, find_by_name
from portal.core.keycloak.coordination import ensure_user_managers_policy
from portal.core.keycloak.gateway import InvitationNotSent, KeycloakGateway
from tests.helpers.coordination import groupement, new_email
from tests.helpers.realm_data import fresh_siren, principal_of


def change(by: str, what: str = "essai") -> Change:
    return Change.now(by, what)


def other_gateway(platform: Any) -> KeycloakGateway:
    """A second portal host: its own connection to Keycloak."""
    return KeycloakGateway.from_config(platform.portal_config)


def between_read_and_write(
    gateway: KeycloakGateway, monkeypatch: pytest.MonkeyPatch, second_writer: Callable[[], Any]
) -> None:
    """Run `second_writer` once, just before this gateway's next PUT reaches Keycloak (after
    it read what it is about to change)."""
    connection = gateway._admin.connection
    put = connection.raw_put
    pending = [second_writer]

    def put_after_the_other(*args: Any, **kwargs: Any) -> Any:
        while pending:
            pending.pop()()
        return put(*args, **kwargs)

    monkeypatch.setattr(connection, "raw_put", put_after_the_other)


def details(email: str) -> ContactDetails:
    return ContactDetails(
        last_name="Durand",
        first_name="Lou",
        email=email,
        phone_fixe="+33299000002",
        phone_mobile=None,
    )


def attributes(platform: Any, person_id: str) -> dict[str, list[str]]:
    return dict(platform.admin.get_user(person_id).get("attributes") or {})


# --- Keycloak's rules -------------------------------------------------------------------------


def test_a_user_update_based_on_a_stale_read_is_refused(platform, create_person):
    person_id = create_person(technique=[f"{fresh_siren()}/1"], join=False)
    first_read = platform.admin.get_user(person_id)
    second_read = platform.admin.get_user(person_id)
    platform.admin.update_user(person_id, {**second_read, "firstName": "Premier"})
    with pytest.raises(KeycloakPutError) as refusal:
        platform.admin.update_user(person_id, {**first_read, "lastName": "Perdu"})
    assert refusal.value.response_code == 400
    body = json.loads(refusal.value.response_body)
    found = body.get("errors") or [body]
    assert any(
        e.get("field") == "revision" and "modifiée par ailleurs" in e.get("errorMessage", "")
        for e in found
    ), found
    stored = platform.admin.get_user(person_id)
    assert (stored["firstName"], stored["lastName"]) == ("Premier", "Martin")


def test_every_update_gives_a_new_revision(platform, create_person):
    person_id = create_person(join=False)
    before = attributes(platform, person_id).get("revision")
    assert before, "a created person has a revision"
    platform.admin.update_user(person_id, {**platform.admin.get_user(person_id), "firstName": "B"})
    after = attributes(platform, person_id).get("revision")
    assert after and after != before


def group_write(admin: KeycloakAdmin, group: dict[str, Any]) -> Any:
    """The conditional group write, as the portal makes it."""
    return admin.connection.raw_put(
        f"admin/realms/{admin.connection.realm_name}/collecte-revisions/groups/{group['id']}",
        data=json.dumps(group),
    )


def test_a_group_update_based_on_a_stale_read_is_refused(platform, gateway, adherent):
    siren = adherent(fresh_siren())
    group_id = gateway.adherent(siren).group_id
    first_read = platform.admin.get_group(group_id)
    second_read = platform.admin.get_group(group_id)
    raison = {**second_read["attributes"], "raisonSociale": ["Commune Renommée"]}
    assert group_write(platform.admin, {**second_read, "attributes": raison}).status_code == 204
    lots = {**first_read["attributes"], "lots": ["1", "2", "3"]}
    refused = group_write(platform.admin, {**first_read, "attributes": lots})
    assert refused.status_code == 409, refused.text
    stored = platform.admin.get_group(group_id)["attributes"]
    assert stored["raisonSociale"] == ["Commune Renommée"] and stored["lots"] == ["1", "2"]


def test_a_plain_group_update_also_gives_a_new_revision(platform, gateway, adherent):
    """The admin console writes groups with Keycloak's own PUT: a conditional writer that read
    the group before is refused after it."""
    siren = adherent(fresh_siren())
    group_id = gateway.adherent(siren).group_id
    stale = platform.admin.get_group(group_id)
    platform.admin.update_group(group_id, {**stale, "attributes": {**stale["attributes"]}})
    assert group_write(platform.admin, stale).status_code == 409


def test_a_principal_is_never_replaced(platform, gateway, adherent, create_person):
    siren = adherent(fresh_siren())
    first, second = create_person(), create_person()
    assert gateway.ensure_principal(Scope(siren, "1"), first)
    group = platform.admin.get_group(gateway.adherent(siren).group_id)
    replaced = {**group["attributes"], "principal.1": [second]}
    refused = group_write(platform.admin, {**group, "attributes": replaced})
    assert refused.status_code == 409, refused.text
    assert principal_of(platform, siren, "1") == first


@pytest.fixture(scope="module")
def coordinated(platform: Any) -> Any:
    code = f"GRP-R{uuid.uuid4().hex[:6].upper()}"
    return groupement(platform, code, fresh_siren())


def test_the_conditional_group_write_needs_the_right_to_manage_that_group(
    platform, gateway, adherent, coordinated
):
    """Another groupement's adherent: the coordinator may not write it by this path either."""
    siren = adherent(fresh_siren())
    group = platform.admin.get_group(gateway.adherent(siren).group_id)
    renamed = {**group["attributes"], "raisonSociale": ["Prise par un autre"]}
    refused = group_write(coordinated.api, {**group, "attributes": renamed})
    assert refused.status_code == 403, refused.text
    assert platform.admin.get_group(group["id"])["attributes"]["raisonSociale"] != [
        "Prise par un autre"
    ]


# --- the portal: two writers on one person ----------------------------------------------------


def test_a_support_revocation_racing_a_member_edit_keeps_both(
    platform, gateway, adherent, create_person, monkeypatch
):
    siren = adherent(fresh_siren())
    person_id = create_person(collecte=[f"{siren}/1", f"{siren}/2"])
    support = other_gateway(platform)
    between_read_and_write(
        gateway,
        monkeypatch,
        lambda: support.revoke_collection(person_id, Scope(siren, "2"), change("support@x.fr")),
    )
    gateway.update_contact(
        person_id, Scope(siren, "1"), {Function.TECHNIQUE: True}, change("membre@x.fr")
    )
    stored = attributes(platform, person_id)
    assert stored.get("technique") == [f"{siren}/1"]  # the member's edit
    assert stored.get("collecte") == [f"{siren}/1"]  # the revocation


def test_two_requests_filed_at_once_are_both_kept(
    platform, gateway, adherent, create_person, monkeypatch
):
    siren = adherent(fresh_siren())
    email = new_email("demande")
    create_person(email=email, join=False)
    colleague = other_gateway(platform)
    between_read_and_write(
        gateway,
        monkeypatch,
        lambda: colleague.add_request(
            details(email), Scope(siren, "2"), "b@x.fr", change("b@x.fr")
        ),
    )
    gateway.add_request(details(email), Scope(siren, "1"), "a@x.fr", change("a@x.fr"))
    person = gateway.find_person_by_email(email)
    assert person is not None
    stored = attributes(platform, person.id)
    assert stored.get("demandeCollecteSur") == [f"{siren}/1", f"{siren}/2"]
    assert len(stored.get("demandesCollecte", [])) == 2


def test_requests_filed_by_many_at_the_same_instant_are_all_kept(platform, adherent, create_person):
    siren = adherent(fresh_siren(), lots=tuple(str(lot) for lot in range(1, 7)))
    email = new_email("demandes")
    create_person(email=email, join=False)
    writers = [other_gateway(platform) for _ in range(6)]
    start = threading.Barrier(len(writers))

    def file(lot: int) -> None:
        start.wait()
        by = f"membre{lot}@x.fr"
        writers[lot - 1].add_request(details(email), Scope(siren, str(lot)), by, change(by))

    with ThreadPoolExecutor(len(writers)) as pool:
        list(pool.map(file, range(1, 7)))
    person = KeycloakGateway.from_config(platform.portal_config).find_person_by_email(email)
    assert person is not None
    stored = attributes(platform, person.id)
    assert stored.get("demandeCollecteSur") == [f"{siren}/{lot}" for lot in range(1, 7)]


def test_a_failed_grant_undoes_its_own_change_only(
    platform, gateway, adherent, create_person, monkeypatch
):
    """The invitation cannot be sent: the grant is undone, but a change made by someone else
    in the meantime stays."""
    siren = adherent(fresh_siren())
    person_id = create_person(technique=[f"{siren}/1"])
    support = other_gateway(platform)

    def smtp_down_after_a_colleague_wrote(**kwargs: Any) -> Any:
        support.update_contact(
            person_id, Scope(siren, "2"), {Function.FACTURATION: True}, change("support@x.fr")
        )
        raise KeycloakPutError("Failed to send execute actions email", response_code=500)

    monkeypatch.setattr(gateway._admin, "send_update_account", smtp_down_after_a_colleague_wrote)
    with pytest.raises(InvitationNotSent):
        gateway.grant_collection(person_id, Scope(siren, "1"), "http://x/", change("s@x.fr"))
    stored = attributes(platform, person_id)
    assert stored.get("facturation") == [f"{siren}/2"]  # the colleague's change
    assert not stored.get("collecte")  # the grant, undone
    assert not stored.get("invitationEnvoyeeLe")
    assert principal_of(platform, siren, "1") is None


# --- the portal: two writers on one adherent --------------------------------------------------


def test_the_principal_once_written_never_changes(
    platform, gateway, adherent, create_person, monkeypatch
):
    siren = adherent(fresh_siren())
    first, second = create_person(), create_person()
    colleague = other_gateway(platform)
    became = []
    between_read_and_write(
        gateway,
        monkeypatch,
        lambda: became.append(colleague.ensure_principal(Scope(siren, "1"), second)),
    )
    assert gateway.ensure_principal(Scope(siren, "1"), first) is False
    assert became == [True]
    assert principal_of(platform, siren, "1") == second


def test_one_principal_when_many_grants_race(platform, adherent, create_person):
    siren = adherent(fresh_siren())
    people = [create_person() for _ in range(6)]
    writers = [other_gateway(platform) for _ in people]
    start = threading.Barrier(len(people))

    def claim(index: int) -> bool:
        start.wait()
        return writers[index].ensure_principal(Scope(siren, "1"), people[index])

    with ThreadPoolExecutor(len(people)) as pool:
        results = list(pool.map(claim, range(len(people))))
    assert results.count(True) == 1, results
    assert principal_of(platform, siren, "1") == people[results.index(True)]


def test_a_console_edit_racing_a_principal_keeps_both(
    platform, gateway, adherent, create_person, monkeypatch
):
    siren = adherent(fresh_siren())
    person_id = create_person()
    group_id = gateway.adherent(siren).group_id

    def console_adds_a_lot() -> None:
        group = platform.admin.get_group(group_id)
        lots = {**group["attributes"], "lots": ["1", "2", "3"]}
        platform.admin.update_group(group_id, {**group, "attributes": lots})

    between_read_and_write(gateway, monkeypatch, console_adds_a_lot)
    assert gateway.ensure_principal(Scope(siren, "1"), person_id)
    stored = platform.admin.get_group(group_id)["attributes"]
    assert stored["lots"] == ["1", "2", "3"] and stored["principal.1"] == [person_id]


def test_a_writer_that_keeps_losing_gets_a_clear_refusal(
    platform, gateway, adherent, create_person, monkeypatch
):
    """Someone changes the person before each of our writes: after a few attempts the portal
    gives up with ConcurrentChange (a French page), having written nothing."""
    from portal.core.keycloak.gateway import ConcurrentChange

    siren = adherent(fresh_siren())
    person_id = create_person(technique=[f"{siren}/1"])
    busy = other_gateway(platform)
    connection = gateway._admin.connection
    put = connection.raw_put

    def always_after_someone_else(*args: Any, **kwargs: Any) -> Any:
        busy.update_contact(
            person_id, Scope(siren, "1"), {Function.FACTURATION: True}, change("autre@x.fr")
        )
        busy.update_contact(
            person_id, Scope(siren, "1"), {Function.FACTURATION: False}, change("autre@x.fr")
        )
        return put(*args, **kwargs)

    monkeypatch.setattr(connection, "raw_put", always_after_someone_else)
    with pytest.raises(ConcurrentChange):
        gateway.update_contact(
            person_id, Scope(siren, "2"), {Function.TECHNIQUE: True}, change("moi@x.fr")
        )
    assert attributes(platform, person_id).get("technique") == [f"{siren}/1"]


def test_a_write_keycloak_rolls_back_is_never_answered_as_done(
    platform, gateway, adherent, create_person
):
    """Several adherents name one new person their principal at the same instant: Keycloak's
    listener gives that person one permission (CoordinatorPermissionsListener), and the writes
    that lose that race are rolled back. Each write answered 204 is stored; a write rolled back
    is answered 409 (read again and redo), never 204."""
    client_uuid = ensure_admin_permissions(platform.admin)
    ensure_user_managers_policy(platform.admin, client_uuid)  # principals get permissions
    groups = [gateway.adherent(adherent(fresh_siren())).group_id for _ in range(6)]
    for _ in range(3):
        person = create_person()
        start = threading.Barrier(len(groups))

        def name(group_id: str, person: str = person, start: threading.Barrier = start) -> int:
            group = platform.admin.get_group(group_id)
            named = {**group["attributes"], "principal.1": [person]}
            start.wait()
            return int(group_write(platform.admin, {**group, "attributes": named}).status_code)

        with ThreadPoolExecutor(len(groups)) as pool:
            answers = dict(zip(groups, pool.map(name, groups), strict=True))
        stored = {g: platform.admin.get_group(g)["attributes"].get("principal.1") for g in groups}
        assert set(answers.values()) <= {204, 409}, answers
        assert all((stored[g] == [person]) == (answers[g] == 204) for g in groups), (
            answers,
            stored,
        )
        assert find_by_name(platform.admin, client_uuid, f"interlocuteur principal {person}")
