"""The core of the portal: domain, validation, errors, use cases and the Keycloak adapter.

Nothing here imports Flask, Authlib or Flask-WTF (a test blocks them and imports every module):
the portal's views and the operations tooling call the same services.
"""
