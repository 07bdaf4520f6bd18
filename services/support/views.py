"""The desk's query views: queues, an agent's tickets, a customer's tickets, SLA candidates.

Built only by following the application's notification log (never by a second write or
by scanning aggregates) and caught up before every query, so a read after a write in
the same process sees it; each process catches up from the shared store the same way.
Erased tickets keep no subject; the customer → tickets/feedback index is what erasure
and merges use to find a customer's aggregates.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol

from services.support.desk import GENERAL

BATCH_SIZE = 500
WORKING = ("new", "open", "pending")
"""Statuses that count against an agent's open-ticket cap."""


@dataclass
class TicketRow:
    """What the views know of one ticket."""

    id: UUID
    customer_id: UUID
    subject: str
    channel: str
    category: str
    priority: str
    status: str
    queue_id: UUID | None
    assignee: str | None
    tier: int
    opened_at: datetime
    targets: dict[str, int]
    version: int
    updated_at: datetime
    first_responded_at: datetime | None = None
    resolved_at: datetime | None = None
    pauses: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    sla_recorded: list[str] = field(default_factory=list)
    merged_into: UUID | None = None
    survey_answered: bool = False


@dataclass(frozen=True)
class QueueRow:
    """A queue and its members in rotation order."""

    id: UUID
    name: str
    category: str
    tier: int
    members: tuple[dict[str, Any], ...]
    version: int


class DeskViews:
    """Tickets and queues indexed for the desk's queries; thread-safe."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._position = 0
        self._tickets: dict[UUID, TicketRow] = {}
        self._queues: dict[UUID, QueueRow] = {}
        self._last_round_robin: dict[UUID, str] = {}
        self._customer_tickets: dict[UUID, set[UUID]] = {}
        self._customer_feedback: dict[UUID, set[UUID]] = {}
        self._feedback_customer: dict[UUID, UUID] = {}
        self._holders: dict[UUID, str] = {}
        """Working ticket → the agent holding it, kept as events arrive so caps are checked in O(agents)."""
        self._held: Counter[str] = Counter()

    def catch_up(self) -> int:
        """Apply every event stored since the last call; returns the new position."""
        with self._lock:
            return self._catch_up()

    def tickets(self, keep: Callable[[TicketRow], bool] = lambda row: True) -> list[TicketRow]:
        """Copies of the tickets `keep` selects, oldest first."""
        with self._lock:
            self._catch_up()
            rows = [replace(row, pauses=list(row.pauses)) for row in self._tickets.values() if keep(row)]
        return sorted(rows, key=lambda row: (row.opened_at, row.id))

    def ticket(self, ticket_id: UUID) -> TicketRow | None:
        """One ticket's row, if the ticket exists."""
        found = self.tickets(lambda row: row.id == ticket_id)
        return found[0] if found else None

    def queues(self) -> list[QueueRow]:
        """Every queue, by category then tier."""
        with self._lock:
            self._catch_up()
            return sorted(self._queues.values(), key=lambda q: (q.category, q.tier))

    def queue_for(self, category: str, tier: int) -> UUID | None:
        """The queue a ticket of `category` goes to at `tier`, by the routing rule (README "Assignment").

        The category's queue at that tier, else the general queue (`*`) at that tier, else
        the same two one tier lower, down to tier 1; None only if none of these exists.
        """
        existing = {(q.category, q.tier): q.id for q in self.queues()}
        for at in range(tier, 0, -1):
            for wanted in ((category, at), (GENERAL, at)):
                if wanted in existing:
                    return existing[wanted]
        return None

    def open_tickets_per_agent(self) -> dict[str, int]:
        """How many working tickets each agent holds."""
        with self._lock:
            self._catch_up()
            return {agent: count for agent, count in self._held.items() if count}

    def last_round_robin(self, queue_id: UUID) -> str | None:
        """The agent the queue's rotation gave its last ticket to."""
        with self._lock:
            self._catch_up()
            return self._last_round_robin.get(queue_id)

    def customer_aggregates(self, customer_id: UUID) -> tuple[list[UUID], list[UUID]]:
        """The ids of the customer's tickets and feedback records."""
        with self._lock:
            self._catch_up()
            tickets = sorted(self._customer_tickets.get(customer_id, ()))
            feedback = sorted(self._customer_feedback.get(customer_id, ()))
        return tickets, feedback

    def _catch_up(self) -> int:
        while True:
            notifications = self.app.recorder.select_notifications(start=self._position + 1, limit=BATCH_SIZE)
            for notification in notifications:
                self._apply(self.app.mapper.to_domain_event(notification))
                self._position = notification.id
            if len(notifications) < BATCH_SIZE:
                return self._position

    def _apply(self, event: DomainEventProtocol[Any]) -> None:
        kind, state, ident = type(event).__qualname__, vars(event), event.originator_id
        aggregate, _, name = kind.partition(".")
        if aggregate == "Ticket":
            self._apply_ticket(name, ident, state)
            self._hold(self._tickets.get(ident))
        elif aggregate == "Queue":
            self._apply_queue(name, ident, state)
        elif aggregate == "Feedback" and name in ("Recorded", "CustomerChanged"):
            self._link(self._customer_feedback, self._feedback_customer.get(ident), state["customer_id"], ident)
            self._feedback_customer[ident] = state["customer_id"]

    def _apply_ticket(self, name: str, ticket_id: UUID, state: dict[str, Any]) -> None:
        if name == "Opened":
            row = _opened(ticket_id, state)
            self._tickets[ticket_id] = row
            self._link(self._customer_tickets, None, row.customer_id, ticket_id)
            return
        found = self._tickets.get(ticket_id)
        if found is None:
            return
        row = found
        row.version = state["originator_version"]
        row.updated_at = state["timestamp"]
        if name == "Assigned" and state["method"] == "round_robin" and state["agent"] and state["queue_id"]:
            self._last_round_robin[state["queue_id"]] = state["agent"]
        if name == "CustomerChanged":
            self._link(self._customer_tickets, row.customer_id, state["customer_id"], ticket_id)
        _EVOLVE.get(name, _unchanged)(row, state)

    def _apply_queue(self, name: str, queue_id: UUID, state: dict[str, Any]) -> None:
        version = state["originator_version"]
        if name == "Established":
            self._queues[queue_id] = QueueRow(queue_id, state["name"], state["category"], state["tier"], (), version)
            return
        queue = self._queues.get(queue_id)
        if queue is None:
            return
        members = [m for m in queue.members if m["agent"] != state["agent"]]
        if name == "MemberSet":
            new = {"agent": state["agent"], "skills": list(state["skills"]), "cap": state["cap"]}
            place = [m["agent"] for m in queue.members]
            members.insert(place.index(state["agent"]) if state["agent"] in place else len(members), new)
        self._queues[queue_id] = replace(queue, members=tuple(members), version=version)

    def _hold(self, row: TicketRow | None) -> None:
        """Keep the agent → working tickets count in step with the ticket's row."""
        if row is None:
            return
        before = self._holders.pop(row.id, None)
        if before is not None:
            self._held[before] -= 1
        if row.assignee is not None and row.status in WORKING:
            self._holders[row.id] = row.assignee
            self._held[row.assignee] += 1

    @staticmethod
    def _link(index: dict[UUID, set[UUID]], old: UUID | None, new: UUID, ident: UUID) -> None:
        if old is not None:
            index.get(old, set()).discard(ident)
        index.setdefault(new, set()).add(ident)


def _opened(ticket_id: UUID, state: dict[str, Any]) -> TicketRow:
    return TicketRow(
        id=ticket_id,
        customer_id=state["customer_id"],
        subject=state["subject"],
        channel=state["channel"],
        category=state["category"],
        priority=state["priority"],
        status="new",
        queue_id=state["queue_id"],
        assignee=None,
        tier=1,
        opened_at=state["opened_at"],
        targets={"first_response": state["first_response_minutes"], "resolution": state["resolution_minutes"]},
        version=state["originator_version"],
        updated_at=state["timestamp"],
    )


def _unchanged(row: TicketRow, state: dict[str, Any]) -> None:
    """Events the views do not show only move the version."""


def _assigned(row: TicketRow, state: dict[str, Any]) -> None:
    row.assignee, row.queue_id = state["agent"], state["queue_id"]


def _status(row: TicketRow, state: dict[str, Any]) -> None:
    before, after, at = state["from_status"], state["to_status"], state["at"]
    if before in ("new", "open") and after not in ("new", "open"):
        row.pauses.append((at, None))
    elif before not in ("new", "open") and after in ("new", "open") and row.pauses:
        row.pauses[-1] = (row.pauses[-1][0], at)
    row.resolved_at = at if after == "resolved" else None if after == "open" else row.resolved_at
    row.status = after


def _replied(row: TicketRow, state: dict[str, Any]) -> None:
    if state["first"]:
        row.first_responded_at = state["at"]


def _priority(row: TicketRow, state: dict[str, Any]) -> None:
    row.priority = state["priority"]
    row.targets = {"first_response": state["first_response_minutes"], "resolution": state["resolution_minutes"]}


def _category(row: TicketRow, state: dict[str, Any]) -> None:
    row.category, row.queue_id, row.assignee = state["category"], state["queue_id"], None


def _escalated(row: TicketRow, state: dict[str, Any]) -> None:
    row.tier, row.queue_id, row.assignee = state["tier"], state["queue_id"], None


def _merged(row: TicketRow, state: dict[str, Any]) -> None:
    if row.status in ("new", "open"):
        row.pauses.append((state["at"], None))
    row.merged_into, row.status = state["survivor_id"], "closed"


def _sla(kind: str) -> Callable[[TicketRow, dict[str, Any]], None]:
    def record(row: TicketRow, state: dict[str, Any]) -> None:
        row.sla_recorded.append(f"{state['target']}:{kind}")

    return record


def _answered(row: TicketRow, state: dict[str, Any]) -> None:
    row.survey_answered = True


def _customer(row: TicketRow, state: dict[str, Any]) -> None:
    row.customer_id = state["customer_id"]


def _erased(row: TicketRow, state: dict[str, Any]) -> None:
    row.subject = ""


_EVOLVE: dict[str, Callable[[TicketRow, dict[str, Any]], None]] = {
    "Assigned": _assigned,
    "StatusChanged": _status,
    "Replied": _replied,
    "PriorityChanged": _priority,
    "CategoryChanged": _category,
    "Escalated": _escalated,
    "MergedInto": _merged,
    "SlaWarned": _sla("warning"),
    "SlaBreached": _sla("breach"),
    "SurveyAnswered": _answered,
    "CustomerChanged": _customer,
    "Erased": _erased,
}


def agents_of(queues: Iterable[QueueRow]) -> dict[UUID, set[str]]:
    """Queue id → its member agents."""
    return {q.id: {m["agent"] for m in q.members} for q in queues}
