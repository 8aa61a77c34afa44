"""« Mon compte » : the signed-in person's own account (sessions; password and second factor on
Keycloak's pages)."""
