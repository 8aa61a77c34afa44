"""Helpers of the sign-in and sign-out tests (test_auth.py, test_logout_and_renewal.py)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from werkzeug.test import TestResponse


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
