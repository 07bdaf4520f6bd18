"""What the support desk's rules refuse: its domain errors, and the vocabulary they share.

Aggregates live in `ticket.py` (tickets, their SLA records and survey) and `desk.py`
(the desk's configuration, queues and feedback). Personal fields of every event are
listed in `PII_FIELDS` and sealed with the aggregate's own key in the store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

Status = Literal["new", "open", "pending", "resolved", "closed"]
Channel = Literal["email", "phone", "web", "chat", "social"]
CHANNELS: tuple[str, ...] = ("email", "phone", "web", "chat", "social")
FeedbackKind = Literal["complaint", "suggestion", "praise"]
FEEDBACK_KINDS: tuple[str, ...] = ("complaint", "suggestion", "praise")
MAX_TIER = 3
MAX_SUBJECT = 300
MAX_TEXT = 20_000

PII_FIELDS: dict[str, tuple[str, ...]] = {
    "Ticket.Opened": ("subject", "description"),
    "Ticket.Replied": ("body",),
    "Ticket.NoteAdded": ("body",),
    "Ticket.SurveyAnswered": ("comment",),
    "Feedback.Recorded": ("text",),
}
"""Personal fields of each event, sealed with the ticket's (or feedback's) own key."""


class SupportError(Exception):
    """Base of the support desk's domain errors."""


class InvalidInput(SupportError):
    """The command's input breaks a rule; nothing was recorded."""


class NotFound(SupportError):
    """No such ticket, queue or feedback."""

    def __init__(self, what: str, ident: UUID | str) -> None:
        super().__init__(f"{what} {ident} not found")


class StaleVersion(SupportError):
    """The caller decided on an older version than the stored one; reload and retry."""

    def __init__(self, expected: int, actual: int, aggregate_id: UUID) -> None:
        super().__init__(f"{aggregate_id} is at version {actual}, not {expected}")
        self.expected = expected
        self.actual = actual


class IllegalTransition(SupportError):
    """The workflow does not lead from the ticket's status to the one asked for."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"the workflow does not lead from {current} to {wanted}")
        self.current = current
        self.wanted = wanted


class ReopenWindowClosed(SupportError):
    """The ticket was resolved too long ago to reopen; open a new one."""


class TicketClosed(SupportError):
    """A closed (or merged) ticket takes no more work."""


class TicketErased(SupportError):
    """The ticket's customer was erased; the ticket keeps no personal data and takes no work."""


class AlreadyRecorded(SupportError):
    """This SLA warning or breach was already recorded for the ticket and target."""


class CustomerErased(SupportError):
    """The customer was erased: the desk records nothing more about them."""


class SurveyNotAvailable(SupportError):
    """The survey link expired, or belongs to an earlier survey of the ticket."""


class SurveyAlreadyAnswered(SupportError):
    """The survey was answered; a link answers once."""


class SurveyForged(SupportError):
    """The survey link was not issued by us or was altered."""


class NotAllowed(SupportError):
    """The caller may not work this ticket (not a member of its queue)."""


def text(value: str, what: str, max_length: int = MAX_TEXT) -> str:
    """Non-empty trimmed text of bounded length (any script)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must not be empty")
    if len(value.strip()) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length} characters")
    return value.strip()


def utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is ambiguous and refused."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidInput("times must be timezone-aware")
    return moment.astimezone(UTC)
