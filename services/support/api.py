"""HTTP routes for tickets and the desk's views: parse, check who may act, call the application.

Routes are plain `def` (the `eventsourcing` library is synchronous; FastAPI runs them in
its thread pool). Support agents work the tickets of their queues (or assigned to them);
admins everything; analysts read. Domain errors become HTTP answers once, in `errors.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from services.support.application import SupportApplication
from services.support.monitoring import is_at_risk, is_overdue, target_statuses
from services.support.schemas import (
    ERROR_RESPONSES,
    AssigneeChange,
    CategoryChange,
    Escalation,
    MergeRequest,
    MessageCreate,
    MessagePublic,
    MessageRef,
    PriorityChange,
    SlaPublic,
    StatusChange,
    StatusChanged,
    TicketCreate,
    TicketPublic,
    TicketRef,
    TicketSummary,
)
from services.support.sla import TargetStatus
from services.support.ticket import Ticket
from services.support.views import WORKING, TicketRow
from shared.events.timestamps import IsoDateTime
from shared.platform.auth import Principal, require_roles
from shared.platform.paging import Page, PageDep

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=ERROR_RESPONSES)
views = APIRouter(tags=["views"], responses=ERROR_RESPONSES)


def get_support(request: Request) -> SupportApplication:
    """The application the app was wired with."""
    support: SupportApplication = request.app.state.support
    return support


SupportDep = Annotated[SupportApplication, Depends(get_support)]
Agent = Annotated[Principal, require_roles("support_agent")]
Opener = Annotated[Principal, require_roles("support_agent", "integration")]
Reader = Annotated[Principal, require_roles("support_agent", "analyst")]
Supervisor = Annotated[Principal, require_roles("analyst")]
"""Admins (who hold every role) and analysts: the whole desk, not one agent's share of it."""


def ensure_works(support: SupportApplication, user: Principal, ticket_id: UUID) -> Ticket:
    """The ticket, if `user` may work it: admin, its assignee, or a member of its queue (any agent if it has none)."""
    ticket = support.ticket(ticket_id)
    if "admin" in user.roles or ticket.assignee == user.subject or ticket.queue_id is None:
        return ticket
    if user.subject in support.queue(ticket.queue_id).agents:
        return ticket
    raise HTTPException(status.HTTP_403_FORBIDDEN, "only agents of the ticket's queue (or its assignee) work it")


def ref(support: SupportApplication, ticket_id: UUID) -> TicketRef:
    """The ticket's reference after a command."""
    t = support.ticket(ticket_id)
    return TicketRef(id=t.id, version=t.version, status=t.status, assignee=t.assignee, queue_id=t.queue_id)


def summary(support: SupportApplication, rows: list[TicketRow], now: datetime) -> list[TicketSummary]:
    """List rows with their SLA state now."""
    desk = support.desk()
    calendar = desk.calendar
    return [
        TicketSummary(
            **{k: getattr(row, k) for k in TicketSummary.model_fields if k != "sla"},
            sla=[SlaPublic.of(s) for s in target_statuses(row, calendar, desk.warn_fraction, now)],
        )
        for row in rows
    ]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Open a ticket")
def open_ticket(body: TicketCreate, support: SupportDep, user: Opener) -> TicketRef:
    """Open a ticket for a customer; it goes to its category's queue and the next agent in rotation."""
    ticket_id = support.open_ticket(**body.model_dump(exclude={"id"}), opened_by=user.subject, ticket_id=body.id)
    return ref(support, ticket_id)


@router.get("", summary="All tickets, filtered (admins and analysts)")
def list_tickets(
    support: SupportDep,
    user: Supervisor,
    page: PageDep,
    ticket_status: Annotated[list[str] | None, Query(alias="status", description="Any of these statuses.")] = None,
    queue_id: UUID | None = None,
    assignee: Annotated[str | None, Query(max_length=320)] = None,
    unassigned: Annotated[bool, Query(description="Only tickets nobody holds.")] = False,
    priority: Annotated[str | None, Query(max_length=20)] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    channel: Annotated[str | None, Query(max_length=50)] = None,
    customer_id: UUID | None = None,
    opened_from: Annotated[IsoDateTime | None, Query(description="Opened at or after.")] = None,
    opened_to: Annotated[IsoDateTime | None, Query(description="Opened before.")] = None,
) -> list[TicketSummary]:
    """Every ticket, closed and merged ones included, oldest first, a page at a time; every filter given must hold.

    Agents work from their own lists (`/tickets/mine`, `/tickets/my-queues`); this one is for
    whoever oversees the desk, so a ticket that landed in no queue is never out of sight.
    """
    statuses = set(ticket_status or ())

    def keep(row: TicketRow) -> bool:
        wanted = (
            (queue_id, row.queue_id),
            (assignee, row.assignee),
            (priority, row.priority),
            (category.strip().casefold() if category else None, row.category),
            (channel, row.channel),
            (customer_id, row.customer_id),
        )
        return (
            all(want is None or want == have for want, have in wanted)
            and (not statuses or row.status in statuses)
            and (not unassigned or row.assignee is None)
            and (opened_from is None or row.opened_at >= opened_from)
            and (opened_to is None or row.opened_at < opened_to)
        )

    return summary(support, page.of(support.views.tickets(keep), key=oldest_first), support.clock())


@router.get("/mine", summary="My tickets")
def my_tickets(support: SupportDep, user: Agent, page: PageDep) -> list[TicketSummary]:
    """Tickets assigned to me that still need work (new, open, pending), oldest first, a page at a time."""
    rows = support.views.tickets(lambda r: r.assignee == user.subject and r.status in WORKING)
    return summary(support, page.of(rows, key=oldest_first), support.clock())


@router.get("/my-queues", summary="My queues' tickets")
def my_queues_tickets(
    support: SupportDep,
    user: Agent,
    page: PageDep,
    unassigned: Annotated[bool, Query(description="Only tickets nobody holds.")] = False,
) -> list[TicketSummary]:
    """Tickets still being worked in every queue I am a member of, oldest first."""
    mine = {q.id for q in support.views.queues() if any(m["agent"] == user.subject for m in q.members)}
    rows = support.views.tickets(
        lambda r: r.queue_id in mine and r.status in WORKING and (not unassigned or r.assignee is None)
    )
    return summary(support, page.of(rows, key=oldest_first), support.clock())


@router.get("/overdue", summary="Overdue tickets")
def overdue_tickets(support: SupportDep, user: Reader, page: PageDep) -> list[TicketSummary]:
    """Tickets still being worked whose first-response or resolution target is breached, oldest first."""
    return _by_sla(support, is_overdue, page)


@router.get("/at-risk", summary="Tickets at risk")
def at_risk_tickets(support: SupportDep, user: Reader, page: PageDep) -> list[TicketSummary]:
    """Tickets still being worked that used the warning share of a target but are not breached, oldest first."""
    return _by_sla(support, is_at_risk, page)


def oldest_first(row: TicketRow) -> tuple[str, str]:
    """The order of every ticket list: when opened (UTC), then id."""
    return row.opened_at.astimezone(UTC).isoformat(), str(row.id)


def _by_sla(support: SupportApplication, keep: Callable[[list[TargetStatus]], bool], page: Page) -> list[TicketSummary]:
    desk, now = support.desk(), support.clock()
    calendar = desk.calendar
    rows = [
        r
        for r in support.views.tickets(lambda r: r.status in WORKING)
        if keep(target_statuses(r, calendar, desk.warn_fraction, now))
    ]
    return summary(support, page.of(rows, key=oldest_first), now)


@router.get("/{ticket_id}", summary="Read a ticket")
def read_ticket(ticket_id: UUID, support: SupportDep, user: Reader) -> TicketPublic:
    """A ticket in full: conversation, internal notes, SLA state and survey."""
    t = support.ticket(ticket_id)
    desk = support.desk()
    row = support.views.ticket(ticket_id)
    sla = target_statuses(row, desk.calendar, desk.warn_fraction, support.clock()) if row else []
    survey = None
    if t.survey is not None:
        survey = {k: v for k, v in t.survey.items() if k != "nonce"}
    ticket = TicketPublic(
        **{k: getattr(t, k) for k in TicketPublic.model_fields if k not in ("replies", "notes", "sla", "survey")},
        replies=[MessagePublic(**m) for m in t.replies],
        notes=[MessagePublic(**m) for m in t.notes],
        sla=[SlaPublic.of(s) for s in sla],
        survey=survey,
    )
    return ticket if user.has_any("support_agent") else masked(ticket)


def masked(ticket: TicketPublic) -> TicketPublic:
    """The ticket as an analyst sees it: the customer's and agents' words hidden, the facts kept."""
    hide = [m.model_copy(update={"body": "***"}) for m in ticket.replies]
    survey = None if ticket.survey is None else ticket.survey | {"comment": None}
    return ticket.model_copy(
        update={"subject": "***", "description": "***", "replies": hide, "notes": [], "survey": survey}
    )


@router.post("/{ticket_id}/status", summary="Change the status")
def change_status(
    ticket_id: UUID, body: StatusChange, request: Request, support: SupportDep, user: Agent
) -> StatusChanged:
    """Move along the workflow (new → open → pending ⇄ open → resolved → closed; resolved → open reopens).

    Resolving issues a CSAT/NPS survey and returns its link for the customer.
    """
    ensure_works(support, user, ticket_id)
    _, token = support.change_status(ticket_id, expected_version=body.expected_version, to=body.status, by=user.subject)
    base = ref(support, ticket_id)
    url = f"{request.app.state.survey_base_url}{token}" if token else None
    return StatusChanged(**base.model_dump(), survey_token=token, survey_url=url)


@router.post("/{ticket_id}/replies", status_code=status.HTTP_201_CREATED, summary="Reply to the customer")
def reply(ticket_id: UUID, body: MessageCreate, support: SupportDep, user: Agent) -> MessageRef:
    """A public reply; the first one meets the first-response target, and a new ticket becomes open."""
    ensure_works(support, user, ticket_id)
    _, reply_id = support.reply(ticket_id, expected_version=body.expected_version, author=user.subject, body=body.body)
    return MessageRef(**ref(support, ticket_id).model_dump(), message_id=reply_id)


@router.post("/{ticket_id}/notes", status_code=status.HTTP_201_CREATED, summary="Add an internal note")
def add_note(ticket_id: UUID, body: MessageCreate, support: SupportDep, user: Agent) -> MessageRef:
    """A note for colleagues; never shown to the customer nor published."""
    ensure_works(support, user, ticket_id)
    _, note_id = support.add_note(
        ticket_id, expected_version=body.expected_version, author=user.subject, body=body.body
    )
    return MessageRef(**ref(support, ticket_id).model_dump(), message_id=note_id)


@router.put("/{ticket_id}/assignee", summary="Assign or reassign")
def assign(ticket_id: UUID, body: AssigneeChange, support: SupportDep, user: Agent) -> TicketRef:
    """Give the ticket to an agent, or (agent null) back to the queue, whose rotation picks someone else."""
    ensure_works(support, user, ticket_id)
    support.assign(ticket_id, expected_version=body.expected_version, agent=body.agent, by=user.subject)
    return ref(support, ticket_id)


@router.put("/{ticket_id}/priority", summary="Change the priority")
def change_priority(ticket_id: UUID, body: PriorityChange, support: SupportDep, user: Agent) -> TicketRef:
    """A new priority; its SLA targets replace the old ones, the clocks keep running."""
    ensure_works(support, user, ticket_id)
    support.change_priority(ticket_id, expected_version=body.expected_version, priority=body.priority, by=user.subject)
    return ref(support, ticket_id)


@router.put("/{ticket_id}/category", summary="Change the category")
def change_category(ticket_id: UUID, body: CategoryChange, support: SupportDep, user: Agent) -> TicketRef:
    """A new category; the ticket moves to that category's queue (same tier) and its rotation."""
    ensure_works(support, user, ticket_id)
    support.change_category(ticket_id, expected_version=body.expected_version, category=body.category, by=user.subject)
    return ref(support, ticket_id)


@router.post("/{ticket_id}/escalations", summary="Escalate to the next tier")
def escalate(ticket_id: UUID, body: Escalation, support: SupportDep, user: Agent) -> TicketRef:
    """Move the ticket one tier up (max 3), to that tier's queue for its category, with the reason."""
    ensure_works(support, user, ticket_id)
    support.escalate(ticket_id, expected_version=body.expected_version, reason=body.reason, by=user.subject)
    return ref(support, ticket_id)


@router.post("/{ticket_id}/merge", summary="Merge a duplicate into another ticket")
def merge(ticket_id: UUID, body: MergeRequest, support: SupportDep, user: Agent) -> TicketRef:
    """Close this ticket as a duplicate of `into` (same customer); returns the surviving ticket."""
    ensure_works(support, user, ticket_id)
    support.merge(ticket_id, into=body.into, expected_version=body.expected_version, by=user.subject)
    return ref(support, body.into)


@router.get(
    "/{ticket_id}/survey-link",
    summary="The survey link of a resolved ticket",
    responses={410: {"description": "The ticket has no open survey (not resolved, answered, expired or erased)."}},
)
def survey_link(ticket_id: UUID, request: Request, support: SupportDep, user: Agent) -> dict[str, str]:
    """The open survey's link, to send it to the customer again."""
    token = support.survey_token(ticket_id)
    return {"survey_token": token, "survey_url": f"{request.app.state.survey_base_url}{token}"}


@views.get("/queues/{queue_id}/tickets", summary="A queue's tickets")
def queue_tickets(
    queue_id: UUID,
    support: SupportDep,
    user: Reader,
    page: PageDep,
    unassigned: Annotated[bool, Query(description="Only tickets nobody holds.")] = False,
) -> list[TicketSummary]:
    """The queue's tickets still being worked, oldest first."""
    support.queue(queue_id)
    rows = support.views.tickets(
        lambda r: r.queue_id == queue_id and r.status in WORKING and (not unassigned or r.assignee is None)
    )
    return summary(support, page.of(rows, key=oldest_first), support.clock())


@views.get("/customers/{customer_id}/tickets", summary="A customer's tickets")
def customer_tickets(customer_id: UUID, support: SupportDep, user: Reader, page: PageDep) -> list[TicketSummary]:
    """Every ticket of the customer, oldest first, closed ones included, a page at a time."""
    rows = support.views.tickets(lambda r: r.customer_id == customer_id)
    return summary(support, page.of(rows, key=oldest_first), support.clock())
