"""The ticket aggregate: workflow, conversation, routing, SLA records and the CSAT/NPS survey.

Commands check first and then call a private `@event` method, so a refused command
records nothing and replay never re-runs a rule that may have changed since.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from services.support.domain import (
    CHANNELS,
    MAX_SUBJECT,
    MAX_TIER,
    AlreadyRecorded,
    IllegalTransition,
    InvalidInput,
    ReopenWindowClosed,
    SurveyAlreadyAnswered,
    SurveyNotAvailable,
    TicketClosed,
    TicketErased,
    text,
    utc,
)
from services.support.sla import PRIORITIES, TARGETS, SlaPolicy

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("open",),
    "open": ("pending", "resolved"),
    "pending": ("open", "resolved"),
    "resolved": ("open", "closed"),
    "closed": (),
}
"""The workflow: new → open → pending ⇄ open → resolved → closed, reopen from resolved."""
ACTIVE = ("new", "open")
"""Statuses in which the SLA clock runs; pending and resolved stop it."""


class Ticket(Aggregate):
    """A customer's request to the support desk, from opening to close."""

    if TYPE_CHECKING:  # the @event decorators define these classes at runtime; this tells mypy
        Opened: ClassVar[type[Aggregate.Event]]
        Assigned: ClassVar[type[Aggregate.Event]]
        StatusChanged: ClassVar[type[Aggregate.Event]]
        Replied: ClassVar[type[Aggregate.Event]]
        NoteAdded: ClassVar[type[Aggregate.Event]]
        PriorityChanged: ClassVar[type[Aggregate.Event]]
        CategoryChanged: ClassVar[type[Aggregate.Event]]
        Escalated: ClassVar[type[Aggregate.Event]]
        MergedInto: ClassVar[type[Aggregate.Event]]
        Absorbed: ClassVar[type[Aggregate.Event]]
        SlaWarned: ClassVar[type[Aggregate.Event]]
        SlaBreached: ClassVar[type[Aggregate.Event]]
        SurveyIssued: ClassVar[type[Aggregate.Event]]
        SurveyAnswered: ClassVar[type[Aggregate.Event]]
        CustomerChanged: ClassVar[type[Aggregate.Event]]
        Erased: ClassVar[type[Aggregate.Event]]

    @classmethod
    def open(
        cls,
        *,
        customer_id: UUID,
        channel: str,
        subject: str,
        description: str,
        category: str,
        priority: str,
        policy: SlaPolicy,
        opened_by: str,
        at: datetime,
        skills: list[str] | None = None,
        queue_id: UUID | None = None,
        source_interaction_id: UUID | None = None,
        ticket_id: UUID | None = None,
    ) -> Ticket:
        """Open a ticket; the SLA targets of its priority are fixed on it now."""
        if channel not in CHANNELS:
            raise InvalidInput(f"channel must be one of {CHANNELS}, not {channel!r}")
        return cls(
            id=ticket_id,
            customer_id=customer_id,
            channel=channel,
            subject=text(subject, "subject", MAX_SUBJECT),
            description=text(description, "description"),
            category=_label(category, "category"),
            priority=_priority(priority),
            skills=sorted({_label(s, "skill") for s in skills or ()}),
            queue_id=queue_id,
            first_response_minutes=policy.first_response_minutes,
            resolution_minutes=policy.resolution_minutes,
            opened_by=text(opened_by, "opened_by", 320),
            opened_at=utc(at),
            source_interaction_id=source_interaction_id,
        )

    @event("Opened")
    def __init__(
        self,
        customer_id: UUID,
        channel: str,
        subject: str,
        description: str,
        category: str,
        priority: str,
        skills: list[str],
        queue_id: UUID | None,
        first_response_minutes: int,
        resolution_minutes: int,
        opened_by: str,
        opened_at: datetime,
        source_interaction_id: UUID | None,
        id: UUID | None = None,  # the library takes it as the aggregate id
    ) -> None:
        self.customer_id = customer_id
        self.channel = channel
        self.subject = subject
        self.description = description
        self.category = category
        self.priority = priority
        self.skills = list(skills)
        self.queue_id = queue_id
        self.targets = {"first_response": first_response_minutes, "resolution": resolution_minutes}
        self.opened_by = opened_by
        self.opened_at = opened_at
        self.source_interaction_id = source_interaction_id
        self.status = "new"
        self.assignee: str | None = None
        self.tier = 1
        self.pauses: list[list[datetime | None]] = []
        self.replies: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []
        self.first_responded_at: datetime | None = None
        self.resolved_at: datetime | None = None
        self.sla_recorded: list[str] = []
        self.survey: dict[str, Any] | None = None
        self.merged_into: UUID | None = None
        self.merged_from: list[UUID] = []
        self.erased = False

    def ensure_workable(self) -> None:
        """Refuse work on a ticket that is closed, merged away or erased."""
        if self.erased:
            raise TicketErased(f"ticket {self.id} was erased")
        if self.status == "closed":
            raise TicketClosed(
                f"ticket {self.id} is closed" + (f" (merged into {self.merged_into})" if self.merged_into else "")
            )

    def assign(self, agent: str | None, *, queue_id: UUID | None, method: str, by: str, at: datetime) -> None:
        """Give the ticket to `agent` (None: back to the queue); no change records nothing."""
        self.ensure_workable()
        if (agent, queue_id) != (self.assignee, self.queue_id):
            self._assign(agent=agent, queue_id=queue_id, method=method, by=by, at=utc(at))

    @event("Assigned")
    def _assign(self, agent: str | None, queue_id: UUID | None, method: str, by: str, at: datetime) -> None:
        self.assignee = agent
        self.queue_id = queue_id

    def change_status(self, to: str, *, by: str, at: datetime, reopen_window: timedelta) -> None:
        """Move along the workflow; reopening is allowed only within `reopen_window` of the resolution."""
        if self.erased:
            raise TicketErased(f"ticket {self.id} was erased")
        if to not in TRANSITIONS.get(self.status, ()):
            raise IllegalTransition(self.status, to)
        at = utc(at)
        if self.status == "resolved" and to == "open" and self.resolved_at and at - self.resolved_at > reopen_window:
            raise ReopenWindowClosed(f"ticket {self.id} was resolved more than {reopen_window} ago; open a new one")
        self._change_status(from_status=self.status, to_status=to, by=by, at=at)

    @event("StatusChanged")
    def _change_status(self, from_status: str, to_status: str, by: str, at: datetime) -> None:
        if from_status in ACTIVE and to_status not in ACTIVE:
            self.pauses.append([at, None])
        elif from_status not in ACTIVE and to_status in ACTIVE and self.pauses:
            self.pauses[-1][1] = at
        if to_status == "resolved":
            self.resolved_at = at
        elif to_status == "open":
            self.resolved_at = None
        self.status = to_status

    def reply(self, author: str, body: str, at: datetime) -> UUID:
        """A public reply to the customer; the first one meets the first-response target."""
        self.ensure_workable()
        reply_id = uuid4()
        first = self.first_responded_at is None
        self._reply(
            reply_id=reply_id, author=text(author, "author", 320), body=text(body, "body"), at=utc(at), first=first
        )
        return reply_id

    @event("Replied")
    def _reply(self, reply_id: UUID, author: str, body: str, at: datetime, first: bool) -> None:
        self.replies.append({"id": reply_id, "author": author, "body": body, "at": at})
        if first:
            self.first_responded_at = at

    def add_note(self, author: str, body: str, at: datetime) -> UUID:
        """An internal note, never shown to the customer."""
        if self.erased:
            raise TicketErased(f"ticket {self.id} was erased")
        note_id = uuid4()
        self._add_note(note_id=note_id, author=text(author, "author", 320), body=text(body, "body"), at=utc(at))
        return note_id

    @event("NoteAdded")
    def _add_note(self, note_id: UUID, author: str, body: str, at: datetime) -> None:
        self.notes.append({"id": note_id, "author": author, "body": body, "at": at})

    def change_priority(self, priority: str, policy: SlaPolicy, *, by: str, at: datetime) -> None:
        """Change the priority; its SLA targets replace the old ones (the clocks keep running)."""
        self.ensure_workable()
        priority = _priority(priority)
        if priority != self.priority:
            self._change_priority(
                priority=priority,
                first_response_minutes=policy.first_response_minutes,
                resolution_minutes=policy.resolution_minutes,
                by=by,
                at=utc(at),
            )

    @event("PriorityChanged")
    def _change_priority(
        self, priority: str, first_response_minutes: int, resolution_minutes: int, by: str, at: datetime
    ) -> None:
        self.priority = priority
        self.targets = {"first_response": first_response_minutes, "resolution": resolution_minutes}

    def change_category(self, category: str, *, queue_id: UUID | None, by: str, at: datetime) -> bool:
        """Change the category; the ticket moves to that category's queue, unassigned. True if it changed."""
        self.ensure_workable()
        category = _label(category, "category")
        if category == self.category:
            return False
        self._change_category(category=category, queue_id=queue_id, by=by, at=utc(at))
        return True

    @event("CategoryChanged")
    def _change_category(self, category: str, queue_id: UUID | None, by: str, at: datetime) -> None:
        self.category = category
        self.queue_id = queue_id
        self.assignee = None

    def escalate(self, reason: str, *, queue_id: UUID | None, by: str, at: datetime) -> int:
        """Move the ticket up one tier (to that tier's queue, unassigned); returns the new tier."""
        self.ensure_workable()
        if self.tier >= MAX_TIER:
            raise InvalidInput(f"ticket {self.id} is already at the highest tier {MAX_TIER}")
        self._escalate(tier=self.tier + 1, reason=text(reason, "reason", 2000), queue_id=queue_id, by=by, at=utc(at))
        return self.tier

    @event("Escalated")
    def _escalate(self, tier: int, reason: str, queue_id: UUID | None, by: str, at: datetime) -> None:
        self.tier = tier
        self.queue_id = queue_id
        self.assignee = None

    def merge_into(self, survivor: Ticket, *, by: str, at: datetime) -> None:
        """Close this duplicate into `survivor` (same customer); the survivor links it."""
        if survivor.id == self.id:
            raise InvalidInput("a ticket cannot be merged into itself")
        if survivor.customer_id != self.customer_id:
            raise InvalidInput("only tickets of the same customer can be merged")
        self.ensure_workable()
        survivor.ensure_workable()
        at = utc(at)
        self._merge_into(survivor_id=survivor.id, from_status=self.status, by=by, at=at)
        survivor._absorb(duplicate_id=self.id, by=by, at=at)

    @event("MergedInto")
    def _merge_into(self, survivor_id: UUID, from_status: str, by: str, at: datetime) -> None:
        if from_status in ACTIVE:
            self.pauses.append([at, None])
        self.merged_into = survivor_id
        self.status = "closed"

    @event("Absorbed")
    def _absorb(self, duplicate_id: UUID, by: str, at: datetime) -> None:
        self.merged_from.append(duplicate_id)

    def record_sla(
        self, kind: str, target: str, *, elapsed_seconds: float, due_at: datetime | None, at: datetime
    ) -> None:
        """Record that a target's warning or breach was emitted; a second time raises `AlreadyRecorded`."""
        if target not in TARGETS:
            raise InvalidInput(f"target must be one of {TARGETS}")
        key = f"{target}:{kind}"
        if key in self.sla_recorded:
            raise AlreadyRecorded(f"{kind} of {target} already recorded for ticket {self.id}")
        minutes, used = self.targets[target], round(elapsed_seconds, 3)
        if kind == "warning":
            self._sla_warned(target=target, target_minutes=minutes, elapsed_seconds=used, due_at=due_at, at=utc(at))
        elif kind == "breach":
            self._sla_breached(target=target, target_minutes=minutes, elapsed_seconds=used, due_at=due_at, at=utc(at))
        else:
            raise InvalidInput("kind must be warning or breach")

    @event("SlaWarned")
    def _sla_warned(
        self, target: str, target_minutes: int, elapsed_seconds: float, due_at: datetime | None, at: datetime
    ) -> None:
        self.sla_recorded.append(f"{target}:warning")

    @event("SlaBreached")
    def _sla_breached(
        self, target: str, target_minutes: int, elapsed_seconds: float, due_at: datetime | None, at: datetime
    ) -> None:
        self.sla_recorded.append(f"{target}:breach")

    def issue_survey(self, *, expires_at: datetime, at: datetime) -> str:
        """A new survey for the resolution just made; earlier links stop working. Returns its nonce."""
        if self.status != "resolved":
            raise InvalidInput("a survey is issued when the ticket is resolved")
        nonce = uuid4().hex
        self._issue_survey(nonce=nonce, expires_at=utc(expires_at), at=utc(at))
        return nonce

    @event("SurveyIssued")
    def _issue_survey(self, nonce: str, expires_at: datetime, at: datetime) -> None:
        self.survey = {"nonce": nonce, "expires_at": expires_at, "answered": False}

    def answer_survey(self, nonce: str, *, csat: int, nps: int | None, comment: str | None, at: datetime) -> None:
        """The customer's answer: CSAT 1–5, optional NPS 0–10 and comment; once per survey."""
        if self.erased or self.survey is None or self.survey["nonce"] != nonce:
            raise SurveyNotAvailable("this survey link is no longer valid")
        if self.survey["answered"]:
            raise SurveyAlreadyAnswered("this survey was already answered")
        if not (isinstance(csat, int) and 1 <= csat <= 5):
            raise InvalidInput("csat must be an integer from 1 to 5")
        if nps is not None and not (isinstance(nps, int) and 0 <= nps <= 10):
            raise InvalidInput("nps must be an integer from 0 to 10")
        note = text(comment, "comment", 4000) if comment and comment.strip() else None
        self._answer_survey(nonce=nonce, csat=csat, nps=nps, comment=note, at=utc(at))

    @event("SurveyAnswered")
    def _answer_survey(self, nonce: str, csat: int, nps: int | None, comment: str | None, at: datetime) -> None:
        assert self.survey is not None
        self.survey.update(answered=True, csat=csat, nps=nps, comment=comment, answered_at=at)

    def change_customer(self, customer_id: UUID) -> None:
        """Re-point the ticket to the customer a duplicate was merged into; idempotent."""
        if customer_id != self.customer_id:
            self._change_customer(previous_customer_id=self.customer_id, customer_id=customer_id)

    @event("CustomerChanged")
    def _change_customer(self, previous_customer_id: UUID, customer_id: UUID) -> None:
        self.customer_id = customer_id

    def erase(self) -> None:
        """Forget the customer's words (GDPR); erasing twice is harmless."""
        if not self.erased:
            self._erase()

    @event("Erased")
    def _erase(self) -> None:
        self.subject = ""
        self.description = ""
        for entry in (*self.replies, *self.notes):
            entry["body"] = ""
        if self.survey is not None and self.survey.get("comment"):
            self.survey["comment"] = None
        self.erased = True


def _priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise InvalidInput(f"priority must be one of {PRIORITIES}, not {priority!r}")
    return priority


def _label(value: str, what: str) -> str:
    """A short lower-case label (category, skill); any script."""
    label = text(value, what, 60).casefold()
    if any(ch.isspace() for ch in label):
        raise InvalidInput(f"{what} must be one word (use - or _), not {value!r}")
    return label
