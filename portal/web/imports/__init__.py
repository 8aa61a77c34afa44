"""Bulk import of a groupement's members: the page, its form and the background jobs."""
