"""The sales service's domain errors and the personal fields of its private events.

Aggregates live in one module each (`leads`, `opportunities`, `catalogue`, `quotes`,
`orders`, `team`); the errors their rules raise are here, so `errors.py` maps them
to HTTP in one place.
"""

from __future__ import annotations

from uuid import UUID

PII_FIELDS: dict[str, tuple[str, ...]] = {
    "Lead.Captured": ("name", "email", "phone"),
    "Lead.Converted": ("name", "email", "phone"),
    "CustomerContacts.Recorded": ("emails",),
    "CustomerContacts.Added": ("emails",),
}
"""Personal fields of each event, sealed with the aggregate's own key (a lead's, a customer's)."""


class SalesError(Exception):
    """Base of every rule the sales service enforces."""


class InvalidInput(SalesError):
    """The command's data breaks a rule (bad phone, unknown currency, unknown stage...)."""


class NotFound(SalesError):
    """No record of that kind has this id."""

    def __init__(self, kind: str, record_id: object) -> None:
        super().__init__(f"{kind} {record_id} not found")


class StaleVersion(SalesError):
    """The caller decided on an older version than the stored one; reload and retry."""

    def __init__(self, expected: int, actual: int, record_id: UUID | None = None) -> None:
        super().__init__(f"record {record_id} is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


class InvalidTransition(SalesError):
    """The record's state does not allow this command (e.g. a stage move after close)."""


class DuplicateLead(SalesError):
    """An open lead already has this email or phone."""

    def __init__(self, existing: UUID, reason: str) -> None:
        super().__init__(f"an open lead with the same {reason} exists: {existing}")
        self.existing = existing


class NotOwner(SalesError):
    """A sales rep may only change (and see) records they own; a manager those of their team."""

    def __init__(self, subject: str, record_id: UUID) -> None:
        super().__init__(f"{subject} may not act on {record_id}")


class RefundTooLarge(SalesError):
    """Refunds never exceed what was paid."""


class QuoteExpired(SalesError):
    """The quote is past its valid-until date."""
