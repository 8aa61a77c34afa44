"""The task queue's consumer, one per portal host beside gunicorn: ``python -m portal.worker``.

It runs the bulk imports (:mod:`portal.web.imports.jobs`) from the queue the portal's settings
name (:mod:`portal.web.task_queue`), with the same configuration as the portal (defaults,
then ``COLLECTE_*``), and every minute resumes an import whose consumer died.
``COLLECTE_TASK_WORKERS`` sets how many imports one consumer runs at once (default 2).
"""

from __future__ import annotations

import logging
import os

from portal import create_app
from portal.web import task_queue


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app()
    workers = int(os.environ.get("COLLECTE_TASK_WORKERS", "2"))
    task_queue.of(app).create_consumer(workers=workers, periodic=True).run()


if __name__ == "__main__":
    main()
