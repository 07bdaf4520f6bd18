"""SLA policies and where a ticket stands against them: pure functions of the ticket's timeline.

Each priority has a first-response and a resolution target in business minutes of the
desk's calendar. The clock runs from opening, stands still while the ticket is pending
(waiting on the customer) or resolved, and the first-response clock stops at the first
public reply. A target is *at risk* from `warn_fraction` of it on and *breached* once used up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.support.calendar import BusinessCalendar, Pause, due, elapsed

Target = Literal["first_response", "resolution"]
TARGETS: tuple[Target, ...] = ("first_response", "resolution")
Priority = Literal["P1", "P2", "P3", "P4"]
PRIORITIES: tuple[Priority, ...] = ("P1", "P2", "P3", "P4")
State = Literal["on_track", "at_risk", "breached", "met"]


@dataclass(frozen=True)
class SlaPolicy:
    """The targets of one priority, in business minutes."""

    first_response_minutes: int
    resolution_minutes: int

    def minutes(self, target: Target) -> int:
        """The target's length in business minutes."""
        return self.first_response_minutes if target == "first_response" else self.resolution_minutes


DEFAULT_POLICIES: dict[str, SlaPolicy] = {
    "P1": SlaPolicy(first_response_minutes=60, resolution_minutes=4 * 60),
    "P2": SlaPolicy(first_response_minutes=4 * 60, resolution_minutes=2 * 8 * 60),
    "P3": SlaPolicy(first_response_minutes=8 * 60, resolution_minutes=5 * 8 * 60),
    "P4": SlaPolicy(first_response_minutes=2 * 8 * 60, resolution_minutes=10 * 8 * 60),
}
"""Business-hour targets a desk starts with; admins replace them per priority."""
DEFAULT_WARN_FRACTION = 0.75


@dataclass(frozen=True)
class TargetStatus:
    """One target of one ticket at one instant."""

    target: Target
    target_minutes: int
    elapsed_seconds: float
    due_at: datetime | None
    """When the target runs (or ran) out; None while the clock is paused with time left."""
    state: State
    warn_reached: bool
    """At least `warn_fraction` of the target was used: a warning is owed."""
    breached: bool


def evaluate(
    calendar: BusinessCalendar,
    *,
    target: Target,
    target_minutes: int,
    opened_at: datetime,
    pauses: Sequence[Pause],
    stopped_at: datetime | None,
    now: datetime,
    warn_fraction: float,
) -> TargetStatus:
    """Where one target stands at `now`; `stopped_at` is when it was met (reply, resolution), if it was."""
    end = min(stopped_at, now) if stopped_at is not None else now
    used = elapsed(calendar, opened_at, end, pauses)
    limit = target_minutes * 60.0
    breached = used >= limit
    warn_reached = used >= limit * warn_fraction
    state: State = "breached" if breached else "met" if stopped_at else "at_risk" if warn_reached else "on_track"
    due_at = None if stopped_at is not None and not breached else due(calendar, opened_at, limit, pauses)
    return TargetStatus(target, target_minutes, used, due_at, state, warn_reached, breached)
