"""The support console (views, forms, templates)."""
