"""The demo application as Keycloak knows it: its client id, its name and the paths Keycloak
sends the browser and the logout token to. Shared by the demo data, which registers the client
(no Flask there), and by the application itself (`collecte_kc.demo_application`, Flask)."""

from __future__ import annotations

CLIENT_ID = "application-collecte-demo"
NAME = "Application de collecte (démonstration)"
CALLBACK_PATH = "/auth/callback"
BACKCHANNEL_PATH = "/auth/backchannel-logout"
