"""Pure field checks shared by the forms (:mod:`portal.web.fields`) and the bulk import
(:mod:`portal.core.services.bulk`): python-stdnum (SIREN check digit), phonenumbers (French
numbers, kept in E.164) and email-validator (syntax only, no network). No Flask here.

:func:`parse_scope` is the one reader of a ``"SIREN/lot"`` value, wherever it comes from (a URL,
a form, a Keycloak attribute through :meth:`portal.core.domain.Scope.parse`).

Each ``check_*`` returns the normalized value or raises :class:`FieldError` with the French
message shown to the person who typed it.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren as stdnum_siren

from portal.core.errors import FieldError as FieldError  # re-exported: importers keep working

LOT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}")
SIREN_PATTERN = re.compile(r"[0-9]{9}")

NAME_MAX = 100
EMAIL_MAX = 254
PHONE_MAX = 30

LABEL_FIXE = "Téléphone fixe"
LABEL_MOBILE = "Téléphone mobile"

EMAIL_TOO_LONG = f"L’adresse e-mail ne doit pas dépasser {EMAIL_MAX} caractères."
EMAIL_INVALID = "Cette adresse e-mail n’est pas valide (exemple : prenom.nom@exemple.fr)."
PHONE_TOO_LONG = f"Le numéro ne doit pas dépasser {PHONE_MAX} caractères."
PHONE_FOREIGN = "Indiquez un numéro français (métropole ou outre-mer)."
PHONE_IS_MOBILE = f"Ce numéro est un mobile : indiquez-le dans « {LABEL_MOBILE} »."
PHONE_NOT_MOBILE = f"Ce numéro n’est pas un mobile : indiquez-le dans « {LABEL_FIXE} »."
SIREN_INVALID = "SIREN invalide : 9 chiffres avec une clé de contrôle correcte."
LOT_INVALID = (
    "Lot invalide : jusqu’à 20 lettres, chiffres ou traits d’union, "
    "en commençant par une lettre ou un chiffre."
)

#: France and the overseas departments and territories that have their own country calling code.
FRENCH_REGIONS = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC"})
#: Overseas departments whose numbers are also written like mainland ones ("0692 12 34 56").
DOM_REGIONS = ("RE", "YT", "GP", "MQ", "GF")
MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
NAME_PUNCTUATION = frozenset(" '’-.")


def clean_text(value: str | None) -> str | None:
    """NFC-normalized, stripped, inner runs of whitespace made one space."""
    if value is None:
        return None
    return " ".join(unicodedata.normalize("NFC", value).split())


def name_error(what: str) -> str:
    """The message for a name made of other characters; ``what`` is "le nom" or "le prénom"."""
    subject = what[0].upper() + what[1:]
    return (
        f"{subject} ne peut contenir que des lettres, des espaces, des apostrophes, "
        "des traits d’union et des points."
    )


def is_person_name(value: str) -> bool:
    return all(c.isalpha() or c in NAME_PUNCTUATION for c in value) and any(
        c.isalpha() for c in value
    )


def check_email(value: str) -> str:
    """The address in lower case, normalized by email-validator (syntax only)."""
    if len(value) > EMAIL_MAX:
        raise FieldError(EMAIL_TOO_LONG)
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise FieldError(EMAIL_INVALID) from None
    return str(result.normalized.lower())


def check_siren(value: str) -> str:
    """A SIREN with its check digit (spaces and dots allowed), as its 9 digits."""
    try:
        return str(stdnum_siren.validate(value))
    except StdnumError:
        raise FieldError(SIREN_INVALID) from None


def parse_scope(value: str) -> tuple[str, str] | None:
    """``(siren, lot)`` from ``"SIREN/lot"``: 9 digits with a correct SIREN check digit, then a
    valid lot; ``None`` for anything else (no spaces, no other separator)."""
    siren, _, lot = value.partition("/")
    if (
        SIREN_PATTERN.fullmatch(siren)
        and stdnum_siren.is_valid(siren)
        and LOT_PATTERN.fullmatch(lot)
    ):
        return siren, lot
    return None


def check_lot(value: str) -> str:
    if not LOT_PATTERN.fullmatch(value):
        raise FieldError(LOT_INVALID)
    return value


def parse_phone(value: str) -> PhoneNumber | None:
    """The valid number written in ``value``, read as mainland French then as overseas."""
    for region in ("FR", *DOM_REGIONS):
        try:
            number = phonenumbers.parse(value, region)
        except NumberParseException:
            return None
        if phonenumbers.is_valid_number(number) and not number.extension:
            return number
    return None


def phone_invalid(mobile: bool) -> str:
    example = "06 12 34 56 78" if mobile else "01 23 45 67 89"
    return f"Ce numéro de téléphone n’est pas valide (exemple : {example})."


def check_phone(value: str, mobile: bool | None = None) -> tuple[str, bool]:
    """``(E.164, is_mobile)`` of a French number. ``mobile``: the kind the field expects
    (True mobile, False fixed), or None to accept either and say which it is."""
    if len(value) > PHONE_MAX:
        raise FieldError(PHONE_TOO_LONG)
    number = parse_phone(value)
    if number is None:
        raise FieldError(phone_invalid(bool(mobile)))
    if phonenumbers.region_code_for_number(number) not in FRENCH_REGIONS:
        raise FieldError(PHONE_FOREIGN)
    kind = phonenumbers.number_type(number)
    if mobile is True and kind not in MOBILE_TYPES:
        raise FieldError(PHONE_NOT_MOBILE)
    if mobile is False and kind == PhoneNumberType.MOBILE:
        raise FieldError(PHONE_IS_MOBILE)
    is_mobile = kind == PhoneNumberType.MOBILE if mobile is None else mobile
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), is_mobile
