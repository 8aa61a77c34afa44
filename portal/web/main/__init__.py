"""Public pages: home and sign-in help."""
