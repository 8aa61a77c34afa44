"""Helpers the tests import: fakes, personas, page readers, Keycloak set-up (no fixtures:
those live in the conftest files)."""
