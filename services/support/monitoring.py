"""Where each ticket of the views stands against its SLA targets, for the scheduler and the overdue/at-risk views."""

from __future__ import annotations

from datetime import datetime

from services.support.calendar import BusinessCalendar
from services.support.sla import TARGETS, TargetStatus, evaluate
from services.support.views import TicketRow


def target_statuses(
    row: TicketRow, calendar: BusinessCalendar, warn_fraction: float, now: datetime
) -> list[TargetStatus]:
    """Both targets of the ticket at `now` (first response stops at the first public reply)."""
    stops = {"first_response": row.first_responded_at, "resolution": row.resolved_at}
    return [
        evaluate(
            calendar,
            target=target,
            target_minutes=row.targets[target],
            opened_at=row.opened_at,
            pauses=row.pauses,
            stopped_at=stops[target],
            now=now,
            warn_fraction=warn_fraction,
        )
        for target in TARGETS
    ]


def is_overdue(statuses: list[TargetStatus]) -> bool:
    """A target is breached and the ticket still waits on us for it."""
    return any(s.state == "breached" for s in statuses)


def is_at_risk(statuses: list[TargetStatus]) -> bool:
    """A running target used its warning share but is not breached yet."""
    return not is_overdue(statuses) and any(s.state == "at_risk" for s in statuses)
