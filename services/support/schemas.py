"""Request and response bodies of the support API, split by role (create, change, public view)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.support.sla import TargetStatus

Priority = Literal["P1", "P2", "P3", "P4"]
Status = Literal["new", "open", "pending", "resolved", "closed"]
Channel = Literal["email", "phone", "web", "chat", "social"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    """Unknown fields are a client mistake: refuse them (422) rather than ignore them."""

    model_config = ConfigDict(extra="forbid")


class Versioned(Strict):
    """A change decided on a version the client read; a stale one gets 409."""

    expected_version: int | None = Field(
        default=None, ge=1, description="The version you read; omit to skip the check."
    )


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such ticket, queue or feedback."},
    409: {"description": "Stale `expected_version`, illegal transition, or already done."},
}


class TicketCreate(Strict):
    """A new ticket."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "8a7c4a52-5d0e-4c55-9d53-0e4b3c1f2a10",
                    "channel": "email",
                    "subject": "订单没有到",
                    "description": "我上周下的订单还没有收到。",
                    "category": "delivery",
                    "priority": "P2",
                    "skills": ["zh"],
                }
            ]
        },
    )

    customer_id: UUID
    channel: Channel
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20_000)
    category: str = Field(min_length=1, max_length=60, description="Routes to the category's tier-1 queue.")
    priority: Priority = "P3"
    skills: list[str] = Field(default_factory=list, description="Skills the agent needs, e.g. a language.")
    id: UUID | None = Field(default=None, description="Client-chosen id: makes the request idempotent.")


class TicketRef(BaseModel):
    """Where a ticket stands after a command."""

    id: UUID
    version: int
    status: Status
    assignee: str | None
    queue_id: UUID | None


class StatusChange(Versioned):
    """Move a ticket along the workflow."""

    status: Status = Field(description="open, pending (waiting on the customer), resolved, closed; open again reopens.")


class StatusChanged(TicketRef):
    """After a status change; resolving returns the survey link to send the customer."""

    survey_token: str | None = None
    survey_url: str | None = None


class MessageCreate(Versioned):
    """A public reply or an internal note."""

    body: str = Field(min_length=1, max_length=20_000)


class MessageRef(TicketRef):
    """After a reply or note."""

    message_id: UUID


class AssigneeChange(Versioned):
    """Give the ticket to an agent, or `null` to hand it back to the queue's rotation."""

    agent: str | None = Field(default=None, max_length=320)


class PriorityChange(Versioned):
    """A new priority (its SLA targets apply from now on)."""

    priority: Priority


class CategoryChange(Versioned):
    """A new category (the ticket moves to that category's queue)."""

    category: str = Field(min_length=1, max_length=60)


class Escalation(Versioned):
    """Escalate one tier up."""

    reason: str = Field(min_length=1, max_length=2000)


class MergeRequest(Versioned):
    """Close this ticket as a duplicate of `into` (same customer)."""

    into: UUID


class SlaPublic(BaseModel):
    """One SLA target of a ticket, now."""

    target: str
    target_minutes: int
    elapsed_minutes: float
    due_at: datetime | None
    state: str

    @classmethod
    def of(cls, status: TargetStatus) -> SlaPublic:
        """From the SLA arithmetic."""
        return cls(
            target=status.target,
            target_minutes=status.target_minutes,
            elapsed_minutes=round(status.elapsed_seconds / 60, 2),
            due_at=status.due_at,
            state=status.state,
        )


class MessagePublic(BaseModel):
    """A reply or note."""

    id: UUID
    author: str
    body: str
    at: datetime


class TicketPublic(BaseModel):
    """A ticket in full, for the agents working it."""

    id: UUID
    version: int
    customer_id: UUID
    channel: str
    subject: str
    description: str
    category: str
    priority: str
    status: str
    tier: int
    queue_id: UUID | None
    assignee: str | None
    skills: list[str]
    opened_at: datetime
    opened_by: str
    first_responded_at: datetime | None
    resolved_at: datetime | None
    replies: list[MessagePublic]
    notes: list[MessagePublic]
    sla: list[SlaPublic]
    sla_recorded: list[str] = Field(description="Warnings and breaches emitted, as `target:kind`.")
    merged_into: UUID | None
    merged_from: list[UUID]
    survey: dict[str, Any] | None
    erased: bool


class TicketSummary(BaseModel):
    """A row of a ticket list."""

    id: UUID
    version: int
    customer_id: UUID
    subject: str
    channel: str
    category: str
    priority: str
    status: str
    tier: int
    queue_id: UUID | None
    assignee: str | None
    opened_at: datetime
    sla: list[SlaPublic]


class QueueCreate(Strict):
    """A queue for one category at one tier."""

    name: str = Field(min_length=1, max_length=120, examples=["Delivery – first line"])
    category: str = Field(min_length=1, max_length=60, examples=["delivery"])
    tier: int = Field(default=1, ge=1, le=3)


class MemberSet(Versioned):
    """An agent's skills and cap of open tickets in a queue."""

    skills: list[str] = Field(default_factory=list, examples=[["zh", "en"]])
    cap: int = Field(default=10, ge=1, le=1000)


class QueuePublic(BaseModel):
    """A queue and its rotation."""

    id: UUID
    version: int
    name: str
    category: str
    tier: int
    members: list[dict[str, Any]]


class CalendarSet(Versioned):
    """Working hours per weekday (local `HH:MM` pairs; `24:00` ends the day), timezone and holidays."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "timezone": "Asia/Shanghai",
                    "hours": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                    "holidays": ["2026-10-01", "2026-10-02"],
                }
            ]
        },
    )

    timezone: str = Field(description="IANA name, e.g. Europe/London, America/New_York, Asia/Shanghai.")
    hours: dict[Weekday, list[tuple[str, str]]] = Field(description="Days left out are closed.")
    holidays: list[date] = Field(default_factory=list)


class PolicySet(Strict):
    """Targets of one priority in business minutes."""

    first_response_minutes: int = Field(ge=1, le=525_600)
    resolution_minutes: int = Field(ge=1, le=525_600)


class PoliciesSet(Versioned):
    """Targets for every priority and the warning threshold."""

    policies: dict[Priority, PolicySet]
    warn_fraction: float = Field(default=0.75, gt=0, lt=1, description="Share of a target after which it is at risk.")


class WorkflowSet(Versioned):
    """Workflow timing, in calendar days."""

    reopen_window_days: int = Field(default=7, ge=1, le=365)
    auto_close_days: int = Field(default=3, ge=1, le=365)
    survey_valid_days: int = Field(default=14, ge=1, le=365)


Span = Annotated[list[str], Field(min_length=2, max_length=2)]
"""A `[start, end]` pair as answered: a fixed-length list, not a tuple, whose JSON Schema (`prefixItems`)
some OpenAPI tools cannot read in responses (schemathesis 4.32 among them)."""


class DeskPublic(BaseModel):
    """The desk's configuration."""

    version: int
    timezone: str
    hours: dict[str, list[Span]] = Field(description="Per weekday, `[start, end]` pairs (local `HH:MM`).")
    holidays: list[str]
    policies: dict[str, dict[str, int]]
    warn_fraction: float
    reopen_window_days: int
    auto_close_days: int
    survey_valid_days: int


class SurveyAnswer(Strict):
    """The customer's answer."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"csat": 5, "nps": 9, "comment": "谢谢！"}]}
    )

    csat: int = Field(ge=1, le=5, description="1 very unhappy … 5 very happy.")
    nps: int | None = Field(default=None, ge=0, le=10, description="How likely you are to recommend us, 0–10.")
    comment: str | None = Field(default=None, max_length=4000)


class SurveyPublic(BaseModel):
    """What the survey page shows."""

    ticket_id: UUID
    expires_at: datetime
    answered: bool
    question_csat: str = "How satisfied are you with how we handled your request? (1–5)"
    question_nps: str = "How likely are you to recommend us to a friend? (0–10)"


class FeedbackCreate(Strict):
    """A complaint, suggestion or praise."""

    customer_id: UUID
    ticket_id: UUID | None = None
    kind: Literal["complaint", "suggestion", "praise"]
    text: str = Field(min_length=1, max_length=4000)


class FeedbackPublic(BaseModel):
    """A feedback record."""

    id: UUID
    customer_id: UUID
    ticket_id: UUID | None
    kind: str
    text: str
    recorded_by: str
    at: datetime
