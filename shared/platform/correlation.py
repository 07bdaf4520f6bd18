"""The correlation id of the unit of work in progress.

One id follows a request from the HTTP edge into the events it causes (stored event
metadata), onto Kafka (`ce_correlationid` header) and into every consumer's logs, so
an operator can follow a single user action across services.
"""

from __future__ import annotations

import uuid
from contextvars import ContextVar, Token

_current: ContextVar[str | None] = ContextVar("crm_correlation_id", default=None)

HEADER = "X-Correlation-ID"


def current() -> str | None:
    """The correlation id of the work in progress, if any."""
    return _current.get()


def bind(correlation_id: str | None) -> Token[str | None]:
    """Make `correlation_id` current (a fresh one when None); reset with the token."""
    return _current.set(correlation_id or new())


def reset(token: Token[str | None]) -> None:
    """Restore the correlation id that was current before `bind`."""
    _current.reset(token)


def new() -> str:
    """A new random correlation id."""
    return uuid.uuid4().hex
