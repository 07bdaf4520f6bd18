"""Normalising what a lead is reached by, so duplicates are found whatever the format."""

from __future__ import annotations

import unicodedata

from services.sales.domain import InvalidInput
from shared.platform import contact as shared_contact

CHANNELS = ("web_form", "api", "csv_import", "campaign")


def email(raw: str) -> str:
    """The canonical email (the platform's rule, `shared.platform.contact`)."""
    try:
        return shared_contact.normalise_email(raw)
    except shared_contact.InvalidContactValue as exc:
        raise InvalidInput(str(exc)) from None


def email_key(value: str) -> str:
    """Emails match case-insensitively."""
    return value.casefold()


def phone(raw: str, default_region: str | None) -> str:
    """The E.164 form of a phone number (the platform's rule, `shared.platform.contact`)."""
    try:
        return shared_contact.normalise_phone(raw, default_region)
    except shared_contact.InvalidContactValue as exc:
        raise InvalidInput(str(exc)) from None


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
