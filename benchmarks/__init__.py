"""Benchmarks of the identity platform (issue 14): `python -m benchmarks [--quick]`."""
