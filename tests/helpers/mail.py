"""A stand-in for smtplib.SMTP that keeps the messages sent."""

from __future__ import annotations

from email.message import EmailMessage


class FakeSMTP:
    """Stands for smtplib.SMTP: keeps what is sent in ``outbox``."""

    outbox: list[EmailMessage]
    #: What each connection did before sending, in order: ("starttls",), ("login", user, pw).
    steps: list[tuple[str, ...]]

    def __init__(self, host: str, port: int, timeout: int) -> None:
        self.address = (host, port)

    def starttls(self, context: object = None) -> None:
        self.steps.append(("starttls",))

    def login(self, user: str, password: str) -> None:
        self.steps.append(("login", user, password))

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def send_message(self, message: EmailMessage) -> None:
        self.outbox.append(message)
