"""The support service's outbox relay: ticket and feedback domain events → `crm.support.v1`.

One explicit function per domain event; internal notes, surveys issued, queue and desk
configuration and erasure stay private (None), so refactoring an aggregate never
changes what subscribers receive.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from services.support.application import SupportApplication
from services.support.desk import CustomerRecord, Desk, Feedback, Queue
from services.support.settings import SupportSettings
from services.support.ticket import Ticket
from shared.events import PublicEvent
from shared.events import support as public
from shared.platform.eventstore import persistence_env
from shared.platform.outbox import Publish, Relay
from shared.platform.relaying import relay_over, run_relay

Mapping = Callable[[Any], PublicEvent | None]


def _opened(e: Any) -> PublicEvent:
    return public.TicketOpenedV1(
        customer_id=e.customer_id,
        ticket_id=e.originator_id,
        channel=e.channel,
        subject=e.subject,
        description=e.description,
        category=e.category,
        priority=e.priority,
        first_response_minutes=e.first_response_minutes,
        resolution_minutes=e.resolution_minutes,
        opened_by=e.opened_by,
        opened_at=e.opened_at,
        source_interaction_id=e.source_interaction_id,
    )


def _assigned(e: Any, customer_id: Any) -> PublicEvent:
    return public.TicketAssignedV1(
        customer_id=customer_id,
        ticket_id=e.originator_id,
        queue_id=e.queue_id,
        assignee=e.agent,
        method=e.method,
        assigned_by=e.by,
        assigned_at=e.at,
    )


def _status(e: Any, customer_id: Any) -> PublicEvent:
    return public.TicketStatusChangedV1(
        customer_id=customer_id,
        ticket_id=e.originator_id,
        from_status=e.from_status,
        to_status=e.to_status,
        changed_by=e.by,
        changed_at=e.at,
    )


def _replied(e: Any, customer_id: Any) -> PublicEvent:
    return public.TicketRepliedV1(
        customer_id=customer_id,
        ticket_id=e.originator_id,
        reply_id=e.reply_id,
        author=e.author,
        body=e.body,
        first_response=e.first,
        replied_at=e.at,
    )


def _priority(e: Any, customer_id: Any) -> PublicEvent:
    return public.TicketPriorityChangedV1(
        customer_id=customer_id,
        ticket_id=e.originator_id,
        priority=e.priority,
        first_response_minutes=e.first_response_minutes,
        resolution_minutes=e.resolution_minutes,
        changed_by=e.by,
        changed_at=e.at,
    )


def _category(e: Any, customer_id: Any) -> PublicEvent:
    return public.TicketCategoryChangedV1(
        customer_id=customer_id,
        ticket_id=e.originator_id,
        category=e.category,
        queue_id=e.queue_id,
        changed_by=e.by,
        changed_at=e.at,
    )


def _escalated(e: Any, customer_id: Any) -> PublicEvent:
    return public.TicketEscalatedV1(
        customer_id=customer_id,
        ticket_id=e.originator_id,
        tier=e.tier,
        reason=e.reason,
        queue_id=e.queue_id,
        escalated_by=e.by,
        escalated_at=e.at,
    )


def _merged(e: Any, customer_id: Any) -> PublicEvent:
    return public.TicketMergedV1(
        customer_id=customer_id, ticket_id=e.originator_id, survivor_id=e.survivor_id, merged_by=e.by, merged_at=e.at
    )


def _customer_changed(e: Any, customer_id: Any) -> PublicEvent:
    return public.TicketCustomerChangedV1(
        customer_id=e.customer_id, ticket_id=e.originator_id, previous_customer_id=e.previous_customer_id
    )


def _sla_warned(e: Any, customer_id: Any) -> PublicEvent:
    return public.SlaWarnedV1(
        customer_id=customer_id,
        ticket_id=e.originator_id,
        target=e.target,
        target_minutes=e.target_minutes,
        elapsed_seconds=e.elapsed_seconds,
        due_at=e.due_at,
        warned_at=e.at,
    )


def _sla_breached(e: Any, customer_id: Any) -> PublicEvent:
    return public.SlaBreachedV1(
        customer_id=customer_id,
        ticket_id=e.originator_id,
        target=e.target,
        target_minutes=e.target_minutes,
        elapsed_seconds=e.elapsed_seconds,
        due_at=e.due_at,
        breached_at=e.at,
    )


def _survey_answered(e: Any, customer_id: Any) -> PublicEvent:
    return public.SurveyAnsweredV1(
        customer_id=customer_id, ticket_id=e.originator_id, csat=e.csat, nps=e.nps, comment=e.comment, answered_at=e.at
    )


def _feedback(e: Any) -> PublicEvent:
    return public.FeedbackRecordedV1(
        customer_id=e.customer_id,
        feedback_id=e.originator_id,
        ticket_id=e.ticket_id,
        kind=e.kind,
        text=e.text,
        recorded_by=e.recorded_by,
        recorded_at=e.at,
    )


TICKET_EVENTS: dict[type[Any], Callable[[Any, Any], PublicEvent]] = {
    Ticket.Assigned: _assigned,
    Ticket.StatusChanged: _status,
    Ticket.Replied: _replied,
    Ticket.PriorityChanged: _priority,
    Ticket.CategoryChanged: _category,
    Ticket.Escalated: _escalated,
    Ticket.MergedInto: _merged,
    Ticket.CustomerChanged: _customer_changed,
    Ticket.SlaWarned: _sla_warned,
    Ticket.SlaBreached: _sla_breached,
    Ticket.SurveyAnswered: _survey_answered,
}
"""Ticket events after the opening: they need the ticket's customer, which the relay looks up."""

PRIVATE: tuple[type[Any], ...] = (
    Ticket.NoteAdded,
    Ticket.Absorbed,
    Ticket.SurveyIssued,
    Ticket.Erased,
    Desk.Started,
    Desk.CalendarSet,
    Desk.PoliciesSet,
    Desk.WorkflowSet,
    Queue.Established,
    Queue.MemberSet,
    Queue.MemberRemoved,
    Feedback.CustomerChanged,
    Feedback.Erased,
    CustomerRecord.Noted,
    CustomerRecord.MergedInto,
    CustomerRecord.Erased,
)
"""Domain events that subscribers never see."""


KEPT_CUSTOMERS = 10_000
"""Tickets whose customer the relay remembers; an older one is read from the store again when needed."""


class SupportPublisher:
    """Maps support domain events to public ones; remembers recent tickets' customers (the Kafka key).

    The memory is bounded (least recently used first out): a relay running for years must
    not hold every ticket ever opened.
    """

    def __init__(self, app: SupportApplication, kept: int = KEPT_CUSTOMERS) -> None:
        self.app = app
        self.kept = kept
        self._customers: OrderedDict[Any, Any] = OrderedDict()

    def __call__(self, event: Any) -> PublicEvent | None:
        kind = type(event)
        if kind in PRIVATE:
            return None
        if kind is Ticket.Opened:
            self._remember(event.originator_id, event.customer_id)
            return _opened(event)
        if kind is Feedback.Recorded:
            return _feedback(event)
        if kind is Ticket.CustomerChanged:
            self._remember(event.originator_id, event.customer_id)
        return TICKET_EVENTS[kind](event, self._customer_of(event.originator_id, event.originator_version))

    def _remember(self, ticket_id: Any, customer_id: Any) -> None:
        self._customers[ticket_id] = customer_id
        self._customers.move_to_end(ticket_id)
        while len(self._customers) > self.kept:
            self._customers.popitem(last=False)

    def _customer_of(self, ticket_id: Any, version: int) -> Any:
        """The customer the ticket belonged to at the event (its Kafka key).

        Starting mid-log (a restart, `crm republish --from`), the ticket is read at the event's
        version, not as it is now: a ticket moved to another customer later keeps its old key.
        """
        if ticket_id not in self._customers:
            ticket: Ticket = self.app.repository.get(ticket_id, version=version)
            self._remember(ticket_id, ticket.customer_id)
        self._customers.move_to_end(ticket_id)
        return self._customers[ticket_id]


def build_relay(settings: SupportSettings, publish: Publish) -> Relay:
    """A relay over the support store configured by `settings`."""
    app = SupportApplication(env=persistence_env(settings.store))
    return relay_over("support", app, SupportPublisher(app), settings, publish)


def main() -> None:
    """Entry point of the relay process: `python -m services.support.relay`."""
    settings = SupportSettings()
    run_relay("support", settings, lambda publish: build_relay(settings, publish))


if __name__ == "__main__":
    main()
