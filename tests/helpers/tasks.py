"""The task queue in unit tests: a thread of the test runs the queue's tasks as a consumer's
worker would (dequeue, execute), so that a test sees a job running, then its outcome."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from huey import Huey

from portal.web import task_queue


@contextmanager
def consumer(app: Flask) -> Iterator[Huey]:
    """Run the app's queued tasks in a thread until the block ends; yields the queue."""
    huey = task_queue.of(app)
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            task = huey.dequeue()
            if task is None:
                stop.wait(0.02)  # nothing queued: look again shortly, as huey's worker does
            else:
                huey.execute(task)

    thread = threading.Thread(target=work, name="consumer-de-test", daemon=True)
    thread.start()
    try:
        yield huey
    finally:
        stop.set()
        thread.join(30)
