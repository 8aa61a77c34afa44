"""The Keycloak Admin API adapter: the only code that talks to Keycloak's Admin API."""
