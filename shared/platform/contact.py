"""Contact values every service reads the same way: canonical emails, E.164 phones, a phone's country.

One set of rules, so a customer, a lead and an audience member with the same address or
number compare equal across services. Errors are `InvalidContactValue`; each service
turns them into its own domain error at its edge.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidContactValue(ValueError):
    """An email address or phone number that is not valid; the message says why."""


def normalise_email(raw: str) -> str:
    """The canonical form of an email: domain lower-cased (IDNA), Unicode local part kept."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidContactValue(f"invalid email address {raw!r}: {exc}") from None


def normalise_phone(raw: str, default_region: str | None) -> str:
    """The E.164 form of a phone number; numbers without `+` are read in `default_region`."""
    if not raw.strip().startswith("+") and default_region is None:
        raise InvalidContactValue(f"phone number {raw!r} needs a country code, e.g. +44")
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContactValue(f"invalid phone number {raw!r}: {exc.args[0]}") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidContactValue(f"invalid phone number {raw!r}: no such number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_of(phones: Iterable[str]) -> str | None:
    """ISO 3166 region of the first parsable E.164 phone (the only country signal a customer carries)."""
    for phone in phones:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone))
        except phonenumbers.NumberParseException:
            continue
        if region and region != "ZZ":
            return str(region)
    return None
