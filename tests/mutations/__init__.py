"""Mutation check: break each critical guard in a scratch copy and run the tests that hold it.

Run ``.venv/bin/python -m tests.mutations`` (all), ``--only lot-isolation,csrf``, ``--unit``
(no Keycloak start) or ``--list``. See :mod:`tests.mutations.guards`
and :mod:`tests.mutations.keycloak_guards` for the list.
"""
