"""Free loopback ports for the servers a test starts."""

from collecte_kc.sandbox import free_port

__all__ = ["free_port"]
