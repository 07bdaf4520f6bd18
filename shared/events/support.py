"""Public events of the support service on `crm.support.v1` (customer service and support).

Ticket events are about one customer (keyed by them, so a customer's support history
stays in order); `ticket_id` names the ticket. Internal notes, queue membership and
the desk's configuration stay private to the service.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import CustomerKeyedEvent, PublicEvent
from shared.events.timestamps import IsoDateTime

Priority = Literal["P1", "P2", "P3", "P4"]
TicketStatus = Literal["new", "open", "pending", "resolved", "closed"]
TicketChannel = Literal["email", "phone", "web", "chat", "social"]
SlaTarget = Literal["first_response", "resolution"]
FeedbackKind = Literal["complaint", "suggestion", "praise"]


class SupportEvent(PublicEvent):
    """Base of the support stream's events that are not about one customer (queues, policies)."""

    topic = topics.SUPPORT


class SupportCustomerEvent(CustomerKeyedEvent):
    """Base of the support stream's events about one customer (tickets, surveys, feedback)."""

    topic = topics.SUPPORT


class TicketOpenedV1(SupportCustomerEvent):
    """A customer's ticket was opened on a channel, with its SLA targets."""

    event_type = "crm.support.ticket_opened.v1"

    ticket_id: UUID
    channel: TicketChannel = Field(description="Where the request came in.")
    subject: str = Field(description="Short summary, any language (personal data).")
    description: str = Field(description="The request in the customer's words (personal data).")
    category: str = Field(description="Lower-case category label; routes to that category's queue.")
    priority: Priority
    first_response_minutes: int = Field(description="First-response target in business minutes.")
    resolution_minutes: int = Field(description="Resolution target in business minutes.")
    opened_by: str = Field(description="Subject of the user or system that opened it.")
    opened_at: IsoDateTime
    source_interaction_id: UUID | None = Field(default=None, description="The social interaction it came from.")


class TicketAssignedV1(SupportCustomerEvent):
    """A ticket was given to an agent (or back to its queue, `assignee` null)."""

    event_type = "crm.support.ticket_assigned.v1"

    ticket_id: UUID
    queue_id: UUID | None = Field(default=None, description="The queue the ticket is in.")
    assignee: str | None = Field(default=None, description="Subject (email) of the agent; null means unassigned.")
    method: Literal["round_robin", "manual"] = Field(description="The rotation chose, or a person did.")
    assigned_by: str
    assigned_at: IsoDateTime


class TicketStatusChangedV1(SupportCustomerEvent):
    """A ticket moved along the workflow (new → open → pending → resolved → closed, or reopened)."""

    event_type = "crm.support.ticket_status_changed.v1"

    ticket_id: UUID
    from_status: TicketStatus
    to_status: TicketStatus
    changed_by: str = Field(description="Subject of the user, or `scheduler` for an automatic close.")
    changed_at: IsoDateTime


class TicketRepliedV1(SupportCustomerEvent):
    """An agent replied publicly to the customer; the first reply meets the first-response target."""

    event_type = "crm.support.ticket_replied.v1"

    ticket_id: UUID
    reply_id: UUID
    author: str
    body: str = Field(description="The reply as sent (personal data).")
    first_response: bool = Field(description="True for the ticket's first public reply.")
    replied_at: IsoDateTime


class TicketPriorityChangedV1(SupportCustomerEvent):
    """A ticket's priority changed, and with it its SLA targets."""

    event_type = "crm.support.ticket_priority_changed.v1"

    ticket_id: UUID
    priority: Priority
    first_response_minutes: int
    resolution_minutes: int
    changed_by: str
    changed_at: IsoDateTime


class TicketCategoryChangedV1(SupportCustomerEvent):
    """A ticket's category changed; it moved to that category's queue."""

    event_type = "crm.support.ticket_category_changed.v1"

    ticket_id: UUID
    category: str
    queue_id: UUID | None = None
    changed_by: str
    changed_at: IsoDateTime


class TicketEscalatedV1(SupportCustomerEvent):
    """A ticket was escalated to a higher support tier, with the reason."""

    event_type = "crm.support.ticket_escalated.v1"

    ticket_id: UUID
    tier: int = Field(ge=2, le=3, description="The tier it moved to.")
    reason: str
    queue_id: UUID | None = None
    escalated_by: str
    escalated_at: IsoDateTime


class TicketMergedV1(SupportCustomerEvent):
    """A duplicate ticket was closed into another ticket of the same customer."""

    event_type = "crm.support.ticket_merged.v1"

    ticket_id: UUID = Field(description="The duplicate, now closed.")
    survivor_id: UUID = Field(description="The ticket the work continues on.")
    merged_by: str
    merged_at: IsoDateTime


class TicketCustomerChangedV1(SupportCustomerEvent):
    """A ticket now belongs to the survivor of a customer merge (`customer_id`)."""

    event_type = "crm.support.ticket_customer_changed.v1"

    ticket_id: UUID
    previous_customer_id: UUID


class SlaWarnedV1(SupportCustomerEvent):
    """A ticket used the warning share of an SLA target; emitted once per ticket and target."""

    event_type = "crm.support.sla_warned.v1"

    ticket_id: UUID
    target: SlaTarget
    target_minutes: int = Field(description="The target in business minutes.")
    elapsed_seconds: float = Field(description="Business seconds used when the warning was raised.")
    due_at: IsoDateTime | None = Field(default=None, description="When the target runs out (null while paused).")
    warned_at: IsoDateTime


class SlaBreachedV1(SupportCustomerEvent):
    """A ticket used up an SLA target; emitted once per ticket and target."""

    event_type = "crm.support.sla_breached.v1"

    ticket_id: UUID
    target: SlaTarget
    target_minutes: int
    elapsed_seconds: float
    due_at: IsoDateTime | None = None
    breached_at: IsoDateTime


class SurveyAnsweredV1(SupportCustomerEvent):
    """The customer answered the satisfaction survey of a resolved ticket."""

    event_type = "crm.support.survey_answered.v1"

    ticket_id: UUID
    csat: int = Field(ge=1, le=5, description="Customer satisfaction, 1 (very unhappy) to 5 (very happy).")
    nps: int | None = Field(default=None, ge=0, le=10, description="Likelihood to recommend, 0 to 10.")
    comment: str | None = Field(default=None, description="Free text (personal data).")
    answered_at: IsoDateTime


class FeedbackRecordedV1(SupportCustomerEvent):
    """A complaint, suggestion or praise from the customer was recorded."""

    event_type = "crm.support.feedback_recorded.v1"

    feedback_id: UUID
    ticket_id: UUID | None = None
    kind: FeedbackKind
    text: str = Field(description="What the customer said (personal data).")
    recorded_by: str
    recorded_at: IsoDateTime


EVENTS: tuple[type[PublicEvent], ...] = (
    TicketOpenedV1,
    TicketAssignedV1,
    TicketStatusChangedV1,
    TicketRepliedV1,
    TicketPriorityChangedV1,
    TicketCategoryChangedV1,
    TicketEscalatedV1,
    TicketMergedV1,
    TicketCustomerChangedV1,
    SlaWarnedV1,
    SlaBreachedV1,
    SurveyAnsweredV1,
    FeedbackRecordedV1,
)
