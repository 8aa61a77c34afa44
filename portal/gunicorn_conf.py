"""gunicorn's settings for the portal, the same for the dev run (``make run``), the benchmarks
and the container: ``gunicorn -c python:portal.gunicorn_conf 'portal:create_app()'``.

Synchronous workers, measured against threaded ones (``gthread``, 4 threads per worker, same
benchmark, 2026-12-02): threads made neither the sign-ins (0.87 against 0.89 × Keycloak alone)
nor the pages faster (p95 of the contact form 33 ms against 23 ms) and took 10 MB more per
worker (82.8 MB, over the 80 MB goal). ``COLLECTE_PORTAL_WORKERS`` sets how many.
"""

from __future__ import annotations

import os

workers = int(os.environ.get("COLLECTE_PORTAL_WORKERS", "2"))
