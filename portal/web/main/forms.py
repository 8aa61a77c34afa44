"""The public help pages' forms."""

from __future__ import annotations

from portal.web.fields import BaseForm, ScopedContactForm, email_field


class SelfHelpForm(BaseForm):
    """« Je ne parviens pas à me connecter » : the address only."""

    email = email_field(required=True)


class AccountlessRequestForm(ScopedContactForm):
    """« Demande sans compte » : the FAQ's fields (names, phones, SIREN, lot) and the address."""
