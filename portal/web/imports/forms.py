"""The form of the bulk import page, with its French messages."""

from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize

from portal.core.services.bulk import EXTENSIONS
from portal.web.fields import BaseForm

MAX_BYTES = 5 * 1024 * 1024
FILE_REQUIRED = "Choisissez le fichier à importer."
FILE_KIND = "Le fichier doit être au format CSV (.csv) ou Excel (.xlsx)."
FILE_TOO_BIG = "Le fichier ne doit pas dépasser 5 Mo."


class ImportForm(BaseForm):
    fichier = FileField(
        "Fichier des membres (CSV ou XLSX, 5 Mo au plus)",
        validators=[
            FileRequired(FILE_REQUIRED),
            FileAllowed([e.lstrip(".") for e in EXTENSIONS], FILE_KIND),
            FileSize(MAX_BYTES, message=FILE_TOO_BIG),
        ],
    )
