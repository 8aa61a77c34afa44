"""The consumers' minute check that mails the notice of a new CGU version
(:mod:`portal.core.services.terms_notice`), its markers kept in the task queue's store so that
every host shares them. ``TERMS_NOTICES`` off: no check (the test sandbox, whose tests change
the CGU version and run the notice themselves)."""

from __future__ import annotations

from flask import Flask, current_app
from huey import Huey, crontab

from portal.core.notify import Mailer
from portal.core.services.terms_notice import TermsNotices
from portal.web import task_queue
from portal.web.gateway import get_gateway
from portal.web.public_url import external_url

_PREFIX = "collecte:avis:"


class QueueClaims:
    """:class:`portal.core.services.terms_notice.Claims` in the queue's key-value store."""

    def __init__(self, huey: Huey) -> None:
        self.huey = huey

    def claim(self, key: str) -> bool:
        return bool(self.huey.put_if_empty(_PREFIX + key, 1))

    def release(self, key: str) -> None:
        self.huey.get(_PREFIX + key)  # reading without peeking removes it

    def is_set(self, key: str) -> bool:
        return self.huey.get(_PREFIX + key, peek=True) is not None


def announce_terms() -> int:
    """One run of the notice, with the current application's settings."""
    claims = QueueClaims(task_queue.queue())
    mailer = Mailer(current_app.config)
    return TermsNotices(get_gateway(), mailer, claims, external_url("auth.login")).announce()


def init_app(app: Flask) -> None:
    if not app.config.get("TERMS_NOTICES", True):
        return

    def announce_task() -> None:
        with app.app_context():
            announce_terms()

    task_queue.of(app).periodic_task(crontab(minute="*"), name="annonce-des-cgu")(announce_task)
