"""What every social aggregate shares: the service's domain errors, ids and input rules.

The aggregates live in their own modules (`accounts`, `posts`, `interactions`,
`identities`); commands validate and normalise first, then call a private `@event`
method, so an invalid command records nothing.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "https://crm.example/social")
"""Namespace of the ids derived from platform ids, so a redelivery maps to the same aggregate."""


def derived_id(*parts: object) -> UUID:
    """A stable id for `parts` (e.g. account + platform interaction id): the idempotency key of a write."""
    return uuid5(NAMESPACE, "/".join(str(p) for p in parts))


class SocialError(Exception):
    """Base of the social service's domain errors (mapped to HTTP in `errors.py`)."""


class InvalidInput(SocialError):
    """The command's input breaks a rule; nothing was written."""


class NotFound(SocialError):
    """No record of this kind has this id."""

    def __init__(self, what: str, record_id: object) -> None:
        super().__init__(f"{what} {record_id} not found")
        self.what = what
        self.record_id = record_id


class StaleVersion(SocialError):
    """The caller decided on an older version than the stored one; reload and retry."""

    def __init__(self, expected: int, actual: int, record_id: UUID) -> None:
        super().__init__(f"{record_id} is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


class InvalidState(SocialError):
    """The record's state does not allow this command (e.g. editing a published post)."""


class WebhookRejected(SocialError):
    """A webhook delivery failed authentication: bad or missing signature, or too old."""


class ReplayedDelivery(SocialError):
    """A webhook delivery id was already accepted: a replay, refused."""


class ConnectorFailed(SocialError):
    """The platform's connector did not do what was asked (network error or non-2xx answer)."""


def text(value: str, what: str, max_length: int) -> str:
    """Non-empty, NFC-normalised, trimmed text of bounded length (any script)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must not be empty")
    cleaned = unicodedata.normalize("NFC", value.strip())
    if len(cleaned) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length} characters")
    return cleaned


def handle_key(handle: str) -> str:
    """How handles compare: case-folded, NFKC, without a leading @ (platforms ignore both)."""
    return unicodedata.normalize("NFKC", handle).strip().lstrip("@").casefold()


def utc(moment: datetime, what: str) -> datetime:
    """An aware datetime in UTC; a naive one is ambiguous and refused."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidInput(f"{what} must be a timezone-aware datetime")
    return moment.astimezone(UTC)
