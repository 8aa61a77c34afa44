"""The portal's web layer (Flask): views, forms and templates per area, over :mod:`portal.core`.

One folder per area, each with ``views.py`` (its blueprint, calling one service of
:mod:`portal.core.services`), ``forms.py`` (its forms) and ``templates/<area>/``:
``main`` (home, sign-in help), ``espace`` (member space), ``support`` (support console),
``suivi`` (a groupement's follow-up) and ``imports`` (bulk import and its background jobs).
A view module never imports another: what two areas share is a module here — ``space`` (the
pages of one SIREN/lot, served to members and to support), ``fields`` (form fields and
validators), ``guards`` (every access check), ``pages`` (page helpers) — and
``templates/`` holds ``base.html`` and the macros every area uses (``_macros/``).
"""
