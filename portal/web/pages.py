"""Helpers shared by the pages of the member space and of the support console."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue

from portal.core.abuse_limits import EXTENSION_KEY, AbuseLimits
from portal.core.dates import date_paris
from portal.core.domain import Adherent, Scope
from portal.web.fields import format_phone


def abuse_limits() -> AbuseLimits:
    """The application's abuse limits (built by :func:`portal.create_app`)."""
    found: AbuseLimits = current_app.extensions[EXTENSION_KEY]
    return found


def scope_label(scope: Scope, adherents: Mapping[str, Adherent | None]) -> str:
    """« SIREN 213500010 — Commune de Démoville — lot 1 » (no name when the adherent is unknown)."""
    adherent = adherents.get(scope.siren)
    name = [adherent.name] if adherent and adherent.name else []
    return " — ".join([f"SIREN {scope.siren}", *name, f"lot {scope.lot}"])


def form_page(template: str, form: Any, **context: Any) -> ResponseReturnValue:
    """The form again: 422 when a POST did not go through (nothing was written)."""
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, **context), status


def get_only(data: dict[str, Any]) -> dict[str, Any] | None:
    """Initial values apply to the first display; a POST is read from what was posted only."""
    return data if request.method == "GET" else None


def here(endpoint: str) -> str:
    """``endpoint`` of the blueprint serving this request (one view may serve several)."""
    return f"{request.blueprint}.{endpoint}"


def init_app(app: Flask) -> None:
    app.add_template_filter(format_phone, "telephone")
    app.add_template_filter(date_paris, "date_paris")
