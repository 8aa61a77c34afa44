"""Outillage du serveur Keycloak de la plateforme : distribution, démarrage, provisionnement."""
