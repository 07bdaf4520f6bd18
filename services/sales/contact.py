"""Normalising what a lead is reached by, so duplicates are found whatever the format."""

from __future__ import annotations

import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.sales.domain import InvalidInput

CHANNELS = ("web_form", "api", "csv_import", "campaign")


def email(raw: str) -> str:
    """The canonical email: domain lower-cased (IDNA), Unicode local part kept."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(f"invalid email address {raw!r}: {exc}") from None


def email_key(value: str) -> str:
    """Emails match case-insensitively."""
    return value.casefold()


def phone(raw: str, default_region: str | None) -> str:
    """The E.164 form of a phone number; numbers without `+` are read in `default_region`."""
    if not raw.strip().startswith("+") and default_region is None:
        raise InvalidInput(f"phone number {raw!r} needs a country code, e.g. +44")
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(f"invalid phone number {raw!r}: {exc.args[0]}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(f"invalid phone number {raw!r}: no such number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def text(value: str | None, what: str, max_length: int = 200, *, required: bool = True) -> str | None:
    """Trimmed NFC text of bounded length (any script), or None when optional and blank."""
    cleaned = unicodedata.normalize("NFC", " ".join((value or "").split()))
    if not cleaned:
        if required:
            raise InvalidInput(f"{what} must not be empty")
        return None
    if len(cleaned) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length} characters")
    return cleaned


def country(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code (upper case), or None."""
    if not value or not value.strip():
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise InvalidInput(f"country must be an ISO 3166-1 alpha-2 code, not {value!r}")
    return code


def channel(value: str) -> str:
    """One of the capture channels."""
    if value not in CHANNELS:
        raise InvalidInput(f"source channel must be one of {', '.join(CHANNELS)}, not {value!r}")
    return value
