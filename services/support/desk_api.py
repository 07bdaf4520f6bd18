"""HTTP routes for the desk's configuration (calendar, SLA policies, workflow) and its queues.

Admins configure; agents and analysts read. Every change is versioned: a stale
`expected_version` gets 409 and changes nothing.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response, status

from services.support.api import SupportDep
from services.support.desk import Desk, Queue, parse_time
from services.support.schemas import (
    ERROR_RESPONSES,
    WEEKDAYS,
    CalendarSet,
    DeskPublic,
    MemberSet,
    PoliciesSet,
    QueueCreate,
    QueuePublic,
    WorkflowSet,
)
from services.support.sla import SlaPolicy
from shared.platform.auth import Principal, require_roles
from shared.platform.paging import PageDep

desk_router = APIRouter(prefix="/desk", tags=["desk configuration"], responses=ERROR_RESPONSES)
queues = APIRouter(prefix="/queues", tags=["queues"], responses=ERROR_RESPONSES)
Admin = Annotated[Principal, require_roles("admin")]
Reader = Annotated[Principal, require_roles("support_agent", "analyst")]


def desk_public(desk: Desk) -> DeskPublic:
    """The desk's configuration as the API shows it."""
    hours = {
        WEEKDAYS[day]: [(_hhmm(w[0]), _hhmm(w[1])) for w in windows]
        for day, windows in enumerate(desk.windows)
        if windows
    }
    return DeskPublic(
        version=desk.version,
        timezone=desk.timezone,
        hours=hours,
        holidays=desk.holidays,
        policies=desk.policies,
        warn_fraction=desk.warn_fraction,
        reopen_window_days=desk.reopen_window_days,
        auto_close_days=desk.auto_close_days,
        survey_valid_days=desk.survey_valid_days,
    )


def queue_public(queue: Queue) -> QueuePublic:
    """A queue as the API shows it."""
    return QueuePublic(
        id=queue.id,
        version=queue.version,
        name=queue.name,
        category=queue.category,
        tier=queue.tier,
        members=queue.members,
    )


@desk_router.get("", summary="The desk's configuration")
def read_desk(support: SupportDep, user: Reader) -> DeskPublic:
    """Business calendar, SLA targets per priority, warning threshold and workflow timing."""
    return desk_public(support.desk())


@desk_router.put("/calendar", summary="Set the business calendar")
def set_calendar(body: CalendarSet, support: SupportDep, user: Admin) -> DeskPublic:
    """Working hours per weekday in a timezone, and holidays; SLAs are measured in this time."""
    hours: dict[str, list[tuple[str, str]]] = {str(day): spans for day, spans in body.hours.items()}
    windows = [[[parse_time(a), parse_time(b)] for a, b in hours.get(day, [])] for day in WEEKDAYS]
    support.set_calendar(
        expected_version=body.expected_version, timezone=body.timezone, windows=windows, holidays=body.holidays
    )
    return desk_public(support.desk())


@desk_router.put("/sla-policies", summary="Set the SLA targets")
def set_policies(body: PoliciesSet, support: SupportDep, user: Admin) -> DeskPublic:
    """First-response and resolution targets per priority (business minutes) and the warning share."""
    policies: dict[str, SlaPolicy] = {
        p: SlaPolicy(v.first_response_minutes, v.resolution_minutes) for p, v in body.policies.items()
    }
    support.set_policies(expected_version=body.expected_version, policies=policies, warn_fraction=body.warn_fraction)
    return desk_public(support.desk())


@desk_router.put("/workflow", summary="Set the workflow timing")
def set_workflow(body: WorkflowSet, support: SupportDep, user: Admin) -> DeskPublic:
    """How long a resolved ticket may be reopened, when it closes itself, how long a survey link works."""
    support.set_workflow(**body.model_dump())
    return desk_public(support.desk())


@queues.post("", status_code=status.HTTP_201_CREATED, summary="Create a queue")
def create_queue(body: QueueCreate, support: SupportDep, user: Admin) -> QueuePublic:
    """A queue for one category at one tier (409 if that queue exists)."""
    return queue_public(support.queue(support.create_queue(**body.model_dump())))


@queues.get("", summary="List the queues")
def list_queues(support: SupportDep, user: Reader, page: PageDep) -> list[QueuePublic]:
    """Every queue with its rotation, by category then tier, a page at a time."""
    return [
        QueuePublic(id=q.id, version=q.version, name=q.name, category=q.category, tier=q.tier, members=list(q.members))
        for q in page.of(support.views.queues(), key=lambda q: (q.category, q.tier, str(q.id)))
    ]


@queues.get("/{queue_id}", summary="Read a queue")
def read_queue(queue_id: UUID, support: SupportDep, user: Reader) -> QueuePublic:
    """A queue and its members in rotation order."""
    return queue_public(support.queue(queue_id))


@queues.put("/{queue_id}/members/{agent}", summary="Add or change a queue member")
def set_member(queue_id: UUID, agent: str, body: MemberSet, support: SupportDep, user: Admin) -> QueuePublic:
    """Add an agent (by their user id, an email) with skills and a cap on open tickets, or change them."""
    support.set_member(queue_id, expected_version=body.expected_version, agent=agent, skills=body.skills, cap=body.cap)
    return queue_public(support.queue(queue_id))


@queues.delete("/{queue_id}/members/{agent}", summary="Remove a queue member", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(queue_id: UUID, agent: str, support: SupportDep, user: Admin) -> Response:
    """Take an agent out of the rotation; the tickets they hold stay theirs."""
    support.remove_member(queue_id, expected_version=None, agent=agent)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
