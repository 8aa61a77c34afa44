"""The public help page's form."""

from __future__ import annotations

from portal.web.fields import BaseForm, email_field


class SelfHelpForm(BaseForm):
    """« Je ne parviens pas à me connecter » : the address only."""

    email = email_field(required=True)
