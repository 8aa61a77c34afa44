"""« Mon espace » : the member space of a collection contact (views, forms, templates)."""
