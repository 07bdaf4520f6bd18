"""Value rules of customer data: how names, contact points and labels are normalised.

Every value is normalised once, at the edge of the domain, so the aggregate, its
events and the directory only ever see canonical forms (E.164 phones, lower-case
email domains, NFKC names) and duplicates can be found by plain equality.
The errors live here, not in `domain`, because these rules raise them and the
domain builds on these rules; `domain` re-exports them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from shared.platform import contact

CONTACT_KINDS = ("email", "phone")
MAX_NAME_LENGTH = 200
MAX_ADDRESS_LENGTH = 500
MAX_LABEL_LENGTH = 50


class CustomerError(Exception):
    """Base of every error of the customer service; the API maps each subclass once."""


class InvalidInput(CustomerError, ValueError):
    """A command carried a value that breaks a rule; the message says which."""


class InvalidContactPoint(InvalidInput):
    """An email address or phone number is not valid."""


def normalise_email(raw: str) -> str:
    """The canonical form of an email (the platform's rule, `shared.platform.contact`)."""
    try:
        return contact.normalise_email(raw)
    except contact.InvalidContactValue as exc:
        raise InvalidContactPoint(str(exc)) from None


def normalise_phone(raw: str, default_region: str | None) -> str:
    """The E.164 form of a phone number (the platform's rule, `shared.platform.contact`)."""
    try:
        return contact.normalise_phone(raw, default_region)
    except contact.InvalidContactValue as exc:
        raise InvalidContactPoint(str(exc)) from None


def normalise_contact_point(kind: str, raw: str, default_region: str | None) -> str:
    """The canonical form of an email or phone, chosen by `kind`."""
    if kind == "email":
        return normalise_email(raw)
    if kind == "phone":
        return normalise_phone(raw, default_region)
    raise InvalidContactPoint(f"contact point kind must be one of {CONTACT_KINDS}, not {kind!r}")


def normalise_name(name: str) -> str:
    """A name as people write it (any script), with invisible differences removed."""
    text = _collapse(name)
    if not text:
        raise InvalidInput("name must not be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name must be at most {MAX_NAME_LENGTH} characters")
    return text


def name_key(name: str) -> str:
    """The form two names are compared in: NFKC and case-folded, so full-width `JOHN` matches `john`."""
    return unicodedata.normalize("NFKC", _collapse(name).casefold())


def normalise_address(address: str) -> str | None:
    """A one-line postal address; blank means none."""
    return normalise_text(address, "address", MAX_ADDRESS_LENGTH)


def normalise_text(value: str, what: str, max_length: int) -> str | None:
    """Free text of bounded length (an address part), NFKC with whitespace collapsed; blank means none."""
    text = _collapse(value)
    if len(text) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length} characters")
    return text or None


def normalise_label(value: str, what: str) -> str:
    """A short lower-case label (a tag or a source channel), so `VIP` and `vip` are one."""
    text = _collapse(value).lower()
    if not text or len(text) > MAX_LABEL_LENGTH:
        raise InvalidInput(f"{what} must be 1 to {MAX_LABEL_LENGTH} characters, got {value!r}")
    return text


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Tags as a sorted list without duplicates, so equal sets compare equal."""
    if isinstance(tags, str):
        raise InvalidInput("tags must be a list of strings, not one string")
    return sorted({normalise_label(tag, "tag") for tag in tags})


def _collapse(text: str) -> str:
    """NFKC with runs of whitespace made one space; control characters are refused."""
    if not isinstance(text, str):
        raise InvalidInput(f"expected text, got {type(text).__name__}")
    folded = " ".join(unicodedata.normalize("NFKC", text).split())
    if any(unicodedata.category(char) == "Cc" for char in folded):
        raise InvalidInput("text must not contain control characters")
    return folded
