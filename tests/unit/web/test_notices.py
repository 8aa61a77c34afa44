"""The CGU notice on the task queue (portal.web.notices): its markers in the queue's shared store,
and the consumers' minute check, registered unless switched off."""

from __future__ import annotations

import pytest
from huey import MemoryHuey

from portal.web import task_queue
from portal.web.app import create_app
from portal.web.notices import QueueClaims
from tests.helpers.settings import TEST_CONFIG


def test_a_marker_is_claimed_once_until_released() -> None:
    claims = QueueClaims(MemoryHuey("essai"))
    other_host = QueueClaims(claims.huey)  # another consumer on the same store
    assert not claims.is_set("cgu-annonce:v2:p-1")
    assert claims.claim("cgu-annonce:v2:p-1")
    assert not other_host.claim("cgu-annonce:v2:p-1")
    assert other_host.is_set("cgu-annonce:v2:p-1")
    claims.release("cgu-annonce:v2:p-1")  # the mail could not be sent
    assert other_host.claim("cgu-annonce:v2:p-1")


@pytest.mark.parametrize(("enabled", "expected"), [(True, True), (False, False)])
def test_the_consumers_check_every_minute_unless_switched_off(
    enabled: bool, expected: bool
) -> None:
    app = create_app({**TEST_CONFIG, "TERMS_NOTICES": enabled})
    periodic = {task.name for task in task_queue.of(app)._registry.periodic_tasks}
    assert ("annonce-des-cgu" in periodic) is expected
