"""Portail de la plateforme de collecte des données adhérents.

Two layers, in two packages:

- :mod:`portal.core` — the domain, its validation and errors, the use cases (services) and the
  Keycloak Admin API adapter. It imports no Flask: the operations tooling (``collecte_kc``)
  and the benchmarks use it without the web application.
- :mod:`portal.web` — the thin Flask front end: sign-in through OpenID Connect, one folder of
  views, forms and templates per area, all calling the core.

This module imports neither, so ``import portal.core`` stays free of Flask; ``create_app`` is
the WSGI entry point (``gunicorn 'portal:create_app()'``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the portal application (see :func:`portal.web.app.create_app`)."""
    from portal.web.app import create_app as build

    return build(config)
