"""The desk's configuration (calendar, SLA policies, workflow timing), its queues, and feedback records.

The desk is one aggregate with a fixed id, so concurrent admins editing it get a
version conflict instead of overwriting each other. A queue serves one category at one
tier; its id is derived from both, so creating the same queue twice is a conflict.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.support.assignment import Member
from services.support.calendar import BusinessCalendar, CalendarError
from services.support.domain import FEEDBACK_KINDS, MAX_TIER, InvalidInput, NotFound, text, utc
from services.support.sla import DEFAULT_POLICIES, DEFAULT_WARN_FRACTION, PRIORITIES, SlaPolicy

DESK_ID = uuid5(NAMESPACE_URL, "crm:support:desk")
DEFAULT_CALENDAR = BusinessCalendar(timezone="UTC", windows=(((9 * 60, 17 * 60),),) * 5 + ((), ()))
DEFAULT_REOPEN_DAYS = 7
DEFAULT_AUTO_CLOSE_DAYS = 3
DEFAULT_SURVEY_DAYS = 14


GENERAL = "*"
"""The category of a general queue: it takes the tickets of every category with no queue of its own at its tier."""
GENERAL_NAME = "General"
"""The name of the general tier-1 queue the desk creates when a ticket has nowhere else to go."""


def queue_id_for(category: str, tier: int) -> UUID:
    """The id of the queue serving `category` at `tier`."""
    return uuid5(NAMESPACE_URL, f"crm:support:queue:{category}:{tier}")


class Desk(Aggregate):
    """How the desk measures and runs its work; one per deployment."""

    if TYPE_CHECKING:
        Started: ClassVar[type[Aggregate.Event]]
        CalendarSet: ClassVar[type[Aggregate.Event]]
        PoliciesSet: ClassVar[type[Aggregate.Event]]
        WorkflowSet: ClassVar[type[Aggregate.Event]]

    @event("Started")
    def __init__(self, id: UUID = DESK_ID) -> None:
        self.timezone = DEFAULT_CALENDAR.timezone
        self.windows: list[list[list[int]]] = [[list(w) for w in day] for day in DEFAULT_CALENDAR.windows]
        self.holidays: list[str] = []
        self.policies = {
            p: {"first_response_minutes": v.first_response_minutes, "resolution_minutes": v.resolution_minutes}
            for p, v in DEFAULT_POLICIES.items()
        }
        self.warn_fraction = DEFAULT_WARN_FRACTION
        self.reopen_window_days = DEFAULT_REOPEN_DAYS
        self.auto_close_days = DEFAULT_AUTO_CLOSE_DAYS
        self.survey_valid_days = DEFAULT_SURVEY_DAYS

    @property
    def calendar(self) -> BusinessCalendar:
        """The business calendar SLAs are measured in."""
        return BusinessCalendar(
            timezone=self.timezone,
            windows=tuple(tuple((w[0], w[1]) for w in day) for day in self.windows),
            holidays=frozenset(date.fromisoformat(d) for d in self.holidays),
        )

    def policy(self, priority: str) -> SlaPolicy:
        """The SLA targets of `priority`."""
        return SlaPolicy(**self.policies[priority])

    @property
    def reopen_window(self) -> timedelta:
        """How long after resolution a ticket may be reopened."""
        return timedelta(days=self.reopen_window_days)

    def set_calendar(self, timezone: str, windows: list[list[list[int]]], holidays: list[date]) -> None:
        """Replace the business calendar (validated as a whole first)."""
        try:
            BusinessCalendar(timezone, tuple(tuple((w[0], w[1]) for w in day) for day in windows), frozenset(holidays))
        except (CalendarError, IndexError, TypeError) as exc:
            raise InvalidInput(str(exc)) from None
        self._set_calendar(timezone=timezone, windows=windows, holidays=sorted(d.isoformat() for d in set(holidays)))

    @event("CalendarSet")
    def _set_calendar(self, timezone: str, windows: list[list[list[int]]], holidays: list[str]) -> None:
        self.timezone = timezone
        self.windows = windows
        self.holidays = holidays

    def set_policies(self, policies: dict[str, SlaPolicy], warn_fraction: float) -> None:
        """Replace the SLA targets of every priority and the warning threshold."""
        if sorted(policies) != list(PRIORITIES):
            raise InvalidInput(f"give targets for every priority {PRIORITIES}")
        if not 0 < warn_fraction < 1:
            raise InvalidInput("warn_fraction must be between 0 and 1")
        for priority, p in policies.items():
            if not 0 < p.first_response_minutes <= p.resolution_minutes:
                raise InvalidInput(f"{priority}: 0 < first_response_minutes <= resolution_minutes")
        flat = {
            k: {"first_response_minutes": v.first_response_minutes, "resolution_minutes": v.resolution_minutes}
            for k, v in policies.items()
        }
        self._set_policies(policies=flat, warn_fraction=warn_fraction)

    @event("PoliciesSet")
    def _set_policies(self, policies: dict[str, dict[str, int]], warn_fraction: float) -> None:
        self.policies = policies
        self.warn_fraction = warn_fraction

    def set_workflow(self, reopen_window_days: int, auto_close_days: int, survey_valid_days: int) -> None:
        """Replace the reopen window, the auto-close delay and how long a survey link is valid."""
        if min(reopen_window_days, auto_close_days, survey_valid_days) < 1:
            raise InvalidInput("every workflow period is at least one day")
        self._set_workflow(
            reopen_window_days=reopen_window_days, auto_close_days=auto_close_days, survey_valid_days=survey_valid_days
        )

    @event("WorkflowSet")
    def _set_workflow(self, reopen_window_days: int, auto_close_days: int, survey_valid_days: int) -> None:
        self.reopen_window_days = reopen_window_days
        self.auto_close_days = auto_close_days
        self.survey_valid_days = survey_valid_days


class Queue(Aggregate):
    """Agents who work one category's tickets at one tier, each with skills and a cap on open tickets."""

    if TYPE_CHECKING:
        Established: ClassVar[type[Aggregate.Event]]
        MemberSet: ClassVar[type[Aggregate.Event]]
        MemberRemoved: ClassVar[type[Aggregate.Event]]

    @classmethod
    def create(cls, *, name: str, category: str, tier: int) -> Queue:
        """A queue for `category` at `tier` (1 = first line)."""
        if not 1 <= tier <= MAX_TIER:
            raise InvalidInput(f"tier must be 1 to {MAX_TIER}")
        category = text(category, "category", 60).casefold()
        return cls(id=queue_id_for(category, tier), name=text(name, "name", 120), category=category, tier=tier)

    @event("Established")
    def __init__(self, name: str, category: str, tier: int, id: UUID | None = None) -> None:
        self.name = name
        self.category = category
        self.tier = tier
        self.members: list[dict[str, Any]] = []

    def set_member(self, agent: str, skills: list[str], cap: int) -> None:
        """Add an agent, or change their skills and cap (they keep their place in the rotation)."""
        if not 1 <= cap <= 1000:
            raise InvalidInput("cap must be 1 to 1000")
        self._set_member(
            agent=text(agent, "agent", 320), skills=sorted({text(s, "skill", 60).casefold() for s in skills}), cap=cap
        )

    @event("MemberSet")
    def _set_member(self, agent: str, skills: list[str], cap: int) -> None:
        for member in self.members:
            if member["agent"] == agent:
                member.update(skills=skills, cap=cap)
                return
        self.members.append({"agent": agent, "skills": skills, "cap": cap})

    def remove_member(self, agent: str) -> None:
        """Take an agent out of the rotation (their tickets stay theirs)."""
        if agent not in self.agents:
            raise NotFound("queue member", agent)
        self._remove_member(agent=agent)

    @event("MemberRemoved")
    def _remove_member(self, agent: str) -> None:
        self.members = [m for m in self.members if m["agent"] != agent]

    @property
    def agents(self) -> list[str]:
        """Member agents in rotation order."""
        return [m["agent"] for m in self.members]

    def rotation(self) -> list[Member]:
        """The members as the round-robin sees them."""
        return [Member(m["agent"], frozenset(m["skills"]), m["cap"]) for m in self.members]


class Feedback(Aggregate):
    """A complaint, suggestion or praise from a customer, optionally about a ticket."""

    if TYPE_CHECKING:
        Recorded: ClassVar[type[Aggregate.Event]]
        CustomerChanged: ClassVar[type[Aggregate.Event]]
        Erased: ClassVar[type[Aggregate.Event]]

    @classmethod
    def record(
        cls, *, customer_id: UUID, ticket_id: UUID | None, kind: str, body: str, recorded_by: str, at: datetime
    ) -> Feedback:
        """Record feedback as the customer gave it."""
        if kind not in FEEDBACK_KINDS:
            raise InvalidInput(f"kind must be one of {FEEDBACK_KINDS}, not {kind!r}")
        return cls(
            customer_id=customer_id,
            ticket_id=ticket_id,
            kind=kind,
            text=text(body, "text", 4000),
            recorded_by=text(recorded_by, "recorded_by", 320),
            at=utc(at),
        )

    @event("Recorded")
    def __init__(
        self, customer_id: UUID, ticket_id: UUID | None, kind: str, text: str, recorded_by: str, at: datetime
    ) -> None:
        self.customer_id = customer_id
        self.ticket_id = ticket_id
        self.kind = kind
        self.text = text
        self.recorded_by = recorded_by
        self.at = at
        self.erased = False

    def change_customer(self, customer_id: UUID) -> None:
        """Re-point to the survivor of a customer merge; idempotent."""
        if customer_id != self.customer_id:
            self._change_customer(previous_customer_id=self.customer_id, customer_id=customer_id)

    @event("CustomerChanged")
    def _change_customer(self, previous_customer_id: UUID, customer_id: UUID) -> None:
        self.customer_id = customer_id

    def erase(self) -> None:
        """Forget what the customer said (GDPR); idempotent."""
        if not self.erased:
            self._erase()

    @event("Erased")
    def _erase(self) -> None:
        self.text = ""
        self.erased = True


def parse_time(value: str) -> int:
    """`HH:MM` as minutes after midnight (`24:00` is the end of the day)."""
    try:
        hours, minutes = (int(part) for part in value.split(":"))
    except ValueError:
        raise InvalidInput(f"times are HH:MM, not {value!r}") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise InvalidInput(f"{value!r} is not a time of day")
    return hours * 60 + minutes


def customer_record_id(customer_id: UUID) -> UUID:
    """The id of the desk's record about `customer_id`."""
    return uuid5(NAMESPACE_URL, f"crm:support:customer:{customer_id}")


class CustomerRecord(Aggregate):
    """What the desk learned from the customer stream: the customer was merged away, or erased.

    Work arriving later (a social escalation, feedback) follows a merge to the survivor and
    is refused for an erased customer, so nothing personal is stored after an erasure.
    """

    if TYPE_CHECKING:
        Noted: ClassVar[type[Aggregate.Event]]
        MergedInto: ClassVar[type[Aggregate.Event]]
        Erased: ClassVar[type[Aggregate.Event]]

    @classmethod
    def note(cls, customer_id: UUID) -> CustomerRecord:
        """Start the record of a customer."""
        return cls(id=customer_record_id(customer_id), customer_id=customer_id)

    @event("Noted")
    def __init__(self, customer_id: UUID, id: UUID | None = None) -> None:
        self.customer_id = customer_id
        self.merged_into: UUID | None = None
        self.erased = False

    def merge_into(self, survivor_id: UUID) -> None:
        """The customer was merged into `survivor_id`; idempotent."""
        if survivor_id == self.customer_id:
            raise InvalidInput("a customer cannot be merged into itself")
        if self.merged_into != survivor_id:
            self._merge_into(survivor_id=survivor_id)

    @event("MergedInto")
    def _merge_into(self, survivor_id: UUID) -> None:
        self.merged_into = survivor_id

    def erase(self) -> None:
        """The customer was erased; idempotent."""
        if not self.erased:
            self._erase()

    @event("Erased")
    def _erase(self) -> None:
        self.erased = True
