"""The portal's web layer (Flask): views, forms and templates per area, over :mod:`portal.core`."""
