"""Dates as the French pages and mails show them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def date_paris(value: datetime) -> str:
    """« 28/11/2026 à 16:50 (heure de Paris) »."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M (heure de Paris)")
