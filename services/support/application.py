"""The support service's `eventsourcing` application: one method per command, load → decide → save.

Optimistic concurrency makes a stale decision fail with `StaleVersion` (HTTP 409)
instead of overwriting a concurrent one. The clock is injected so that tests, and the
scheduler's test/ops time setting, decide what "now" is.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper
from eventsourcing.utils import EnvType

from services.support.assignment import next_agent
from services.support.desk import (
    DESK_ID,
    GENERAL,
    GENERAL_NAME,
    CustomerRecord,
    Desk,
    Feedback,
    Queue,
    customer_record_id,
    queue_id_for,
)
from services.support.domain import (
    PII_FIELDS,
    CustomerErased,
    InvalidInput,
    NotFound,
    StaleVersion,
    SurveyForged,
    SurveyNotAvailable,
)
from services.support.sla import PRIORITIES, SlaPolicy
from services.support.surveys import InvalidSurveyToken, SurveyClaim, SurveySigner
from services.support.ticket import Ticket
from services.support.views import DeskViews
from shared.platform.concurrency import retries_race, save_or_stale
from shared.platform.keystore import KeyStore, keystore_for
from shared.platform.pii import PiiMapper

Clock = Callable[[], datetime]
A = TypeVar("A", bound=Aggregate)
MAX_MERGE_HOPS = 20


def system_clock() -> datetime:
    """The real time, in UTC."""
    return datetime.now(UTC)


log = logging.getLogger("crm.support")


class SupportApplication(Application[UUID]):
    """Tickets, queues, SLAs, surveys and feedback of the support desk."""

    name = "support"
    is_snapshotting_enabled = True  # only erasure takes snapshots: see `erase_customer`

    def __init__(
        self, env: EnvType | None = None, *, clock: Clock = system_clock, signer: SurveySigner | None = None
    ) -> None:
        self.keys: KeyStore | None = None
        super().__init__(env)
        self.clock = clock
        self.signer = signer
        self.views = DeskViews(self)

    # --- desk configuration -------------------------------------------------------------

    def desk(self) -> Desk:
        """The desk's configuration (defaults until an admin changes it)."""
        with contextlib.suppress(AggregateNotFoundError):
            desk: Desk = self.repository.get(DESK_ID)
            return desk
        return Desk()

    @retries_race(StaleVersion)
    def configure(self, expected_version: int | None, change: Callable[[Desk], None]) -> int:
        """Apply one configuration change to the desk; returns its new version."""
        desk = self.desk()
        if expected_version is not None and expected_version != desk.version:
            raise StaleVersion(expected_version, desk.version, DESK_ID)
        change(desk)
        self._save(desk)
        return desk.version

    def set_calendar(
        self, *, expected_version: int | None, timezone: str, windows: list[list[list[int]]], holidays: list[date]
    ) -> int:
        """Replace the business calendar."""
        return self.configure(expected_version, lambda d: d.set_calendar(timezone, windows, holidays))

    def set_policies(
        self, *, expected_version: int | None, policies: dict[str, SlaPolicy], warn_fraction: float
    ) -> int:
        """Replace the SLA targets and warning threshold."""
        return self.configure(expected_version, lambda d: d.set_policies(policies, warn_fraction))

    def set_workflow(
        self, *, expected_version: int | None, reopen_window_days: int, auto_close_days: int, survey_valid_days: int
    ) -> int:
        """Replace the reopen window, auto-close delay and survey validity."""
        return self.configure(
            expected_version, lambda d: d.set_workflow(reopen_window_days, auto_close_days, survey_valid_days)
        )

    # --- queues -------------------------------------------------------------------------

    def create_queue(self, *, name: str, category: str, tier: int) -> UUID:
        """Create the queue of a category and tier (409 if it exists)."""
        queue = Queue.create(name=name, category=category, tier=tier)
        self._save(queue)
        return queue.id

    def queue(self, queue_id: UUID) -> Queue:
        """A queue's current state."""
        return self._get(Queue, queue_id, "queue")

    @retries_race(StaleVersion)
    def set_member(
        self, queue_id: UUID, *, expected_version: int | None, agent: str, skills: list[str], cap: int
    ) -> int:
        """Add an agent to a queue, or change their skills and cap."""
        queue = self._load(Queue, queue_id, expected_version, "queue")
        queue.set_member(agent, skills, cap)
        self._save(queue)
        return queue.version

    @retries_race(StaleVersion)
    def remove_member(self, queue_id: UUID, *, expected_version: int | None, agent: str) -> int:
        """Take an agent out of a queue's rotation."""
        queue = self._load(Queue, queue_id, expected_version, "queue")
        queue.remove_member(agent)
        self._save(queue)
        return queue.version

    # --- tickets ------------------------------------------------------------------------

    def open_ticket(
        self,
        *,
        customer_id: UUID,
        channel: str,
        subject: str,
        description: str,
        category: str,
        priority: str,
        opened_by: str,
        skills: list[str] | None = None,
        ticket_id: UUID | None = None,
        source_interaction_id: UUID | None = None,
    ) -> UUID:
        """Open a ticket in its tier-1 queue (the routing rule), for the next agent in rotation; idempotent by id."""
        if ticket_id is not None and ticket_id in self.repository:
            return ticket_id
        if priority not in PRIORITIES:
            raise InvalidInput(f"priority must be one of {PRIORITIES}, not {priority!r}")
        desk = self.desk()
        queue_id = self._queue_for(category.strip().casefold(), 1)
        ticket = Ticket.open(
            customer_id=self.current_customer(customer_id),
            channel=channel,
            subject=subject,
            description=description,
            category=category,
            priority=priority,
            policy=desk.policy(priority),
            opened_by=opened_by,
            at=self.clock(),
            skills=skills,
            queue_id=queue_id,
            source_interaction_id=source_interaction_id,
            ticket_id=ticket_id,
        )
        self._route(ticket, queue_id, by="system")
        try:
            self._save(ticket)
        except StaleVersion:
            if ticket_id is None:
                raise
        return ticket.id

    def ticket(self, ticket_id: UUID) -> Ticket:
        """A ticket's current state."""
        return self._get(Ticket, ticket_id, "ticket")

    @retries_race(StaleVersion)
    def assign(self, ticket_id: UUID, *, expected_version: int | None, agent: str | None, by: str) -> int:
        """Give the ticket to `agent` by hand (None: back to the queue's rotation, which assigns again)."""
        ticket = self._load(Ticket, ticket_id, expected_version, "ticket")
        if agent is None:
            previous = ticket.assignee
            ticket.assign(None, queue_id=ticket.queue_id, method="manual", by=by, at=self.clock())
            self._route(ticket, ticket.queue_id, by=by, skip=previous)
        else:
            ticket.assign(agent, queue_id=ticket.queue_id, method="manual", by=by, at=self.clock())
        self._save(ticket)
        return ticket.version

    @retries_race(StaleVersion)
    def change_status(
        self, ticket_id: UUID, *, expected_version: int | None, to: str, by: str
    ) -> tuple[int, str | None]:
        """Move the ticket along the workflow; resolving issues a survey, whose token is returned."""
        ticket = self._load(Ticket, ticket_id, expected_version, "ticket")
        desk, now = self.desk(), self.clock()
        ticket.change_status(to, by=by, at=now, reopen_window=desk.reopen_window)
        token = None
        if to == "resolved":
            nonce = ticket.issue_survey(expires_at=now + timedelta(days=desk.survey_valid_days), at=now)
            token = self._token(ticket.id, nonce, ticket.survey) if self.signer else None
        self._save(ticket)
        return ticket.version, token

    @retries_race(StaleVersion)
    def reply(self, ticket_id: UUID, *, expected_version: int | None, author: str, body: str) -> tuple[int, UUID]:
        """A public reply; on a new ticket it also opens the ticket (someone is working it)."""
        ticket = self._load(Ticket, ticket_id, expected_version, "ticket")
        reply_id = ticket.reply(author, body, self.clock())
        if ticket.status == "new":
            ticket.change_status("open", by=author, at=self.clock(), reopen_window=timedelta(0))
        self._save(ticket)
        return ticket.version, reply_id

    @retries_race(StaleVersion)
    def add_note(self, ticket_id: UUID, *, expected_version: int | None, author: str, body: str) -> tuple[int, UUID]:
        """An internal note."""
        ticket = self._load(Ticket, ticket_id, expected_version, "ticket")
        note_id = ticket.add_note(author, body, self.clock())
        self._save(ticket)
        return ticket.version, note_id

    @retries_race(StaleVersion)
    def change_priority(self, ticket_id: UUID, *, expected_version: int | None, priority: str, by: str) -> int:
        """Change the priority and with it the SLA targets."""
        ticket = self._load(Ticket, ticket_id, expected_version, "ticket")
        desk = self.desk()
        if priority not in desk.policies:
            raise InvalidInput(f"priority must be one of {sorted(desk.policies)}")
        ticket.change_priority(priority, desk.policy(priority), by=by, at=self.clock())
        self._save(ticket)
        return ticket.version

    @retries_race(StaleVersion)
    def change_category(self, ticket_id: UUID, *, expected_version: int | None, category: str, by: str) -> int:
        """Change the category: the ticket moves to that category's queue at its tier and is assigned there."""
        ticket = self._load(Ticket, ticket_id, expected_version, "ticket")
        target = self._queue_for(category.strip().casefold(), ticket.tier)
        if ticket.change_category(category, queue_id=target, by=by, at=self.clock()):
            self._route(ticket, target, by=by)
        self._save(ticket)
        return ticket.version

    @retries_race(StaleVersion)
    def escalate(self, ticket_id: UUID, *, expected_version: int | None, reason: str, by: str) -> int:
        """Escalate one tier up, to the queue the routing rule gives at that tier."""
        ticket = self._load(Ticket, ticket_id, expected_version, "ticket")
        target = self._queue_for(ticket.category.casefold(), ticket.tier + 1)
        ticket.escalate(reason, queue_id=target, by=by, at=self.clock())
        self._route(ticket, target, by=by)
        self._save(ticket)
        return ticket.version

    @retries_race(StaleVersion)
    def merge(self, duplicate_id: UUID, *, into: UUID, expected_version: int | None, by: str) -> int:
        """Close a duplicate into another ticket of the same customer; both saved atomically."""
        duplicate = self._load(Ticket, duplicate_id, expected_version, "ticket")
        survivor = self.ticket(into)
        duplicate.merge_into(survivor, by=by, at=self.clock())
        self._save(duplicate, survivor)
        return survivor.version

    def record_sla(
        self,
        ticket_id: UUID,
        *,
        version: int | None,
        kind: str,
        target: str,
        elapsed_seconds: float,
        due_at: datetime | None,
    ) -> None:
        """Record (once) that a warning or breach was emitted; a concurrent recorder loses with `StaleVersion`."""
        ticket = self._load(Ticket, ticket_id, version, "ticket")
        ticket.record_sla(kind, target, elapsed_seconds=elapsed_seconds, due_at=due_at, at=self.clock())
        self._save(ticket)

    def assign_waiting(self, ticket_id: UUID) -> bool:
        """Give an unassigned ticket of a queue to the next agent with room (capacity may have freed up)."""
        ticket = self.ticket(ticket_id)
        if ticket.assignee is not None or ticket.queue_id is None or ticket.status not in ("new", "open", "pending"):
            return False
        self._route(ticket, ticket.queue_id, by="scheduler")
        if ticket.assignee is None:
            return False
        self._save(ticket)
        return True

    def auto_close(self, ticket_id: UUID) -> bool:
        """Close a ticket resolved at least the desk's auto-close days ago (the scheduler's job); True if closed."""
        ticket = self.ticket(ticket_id)
        now = self.clock()
        if ticket.status != "resolved" or ticket.resolved_at is None:
            return False
        if now - ticket.resolved_at < timedelta(days=self.desk().auto_close_days):
            return False
        ticket.change_status("closed", by="scheduler", at=self.clock(), reopen_window=timedelta(0))
        self._save(ticket)
        return True

    # --- surveys and feedback ------------------------------------------------------------

    def survey_token(self, ticket_id: UUID) -> str:
        """The current survey link token of a resolved ticket (to send it again)."""
        ticket = self.ticket(ticket_id)
        if ticket.survey is None or ticket.survey["answered"]:
            raise SurveyNotAvailable("the ticket has no open survey")
        return self._token(ticket.id, ticket.survey["nonce"], ticket.survey)

    def read_survey(self, token: str) -> tuple[SurveyClaim, Ticket]:
        """The claim of a valid token and its ticket; `SurveyForged` or `SurveyNotAvailable` otherwise."""
        claim = self._claim(token)
        if claim.expired(self.clock()):
            raise SurveyNotAvailable("this survey link has expired")
        ticket = self.ticket(claim.ticket_id)
        if ticket.erased or ticket.survey is None or ticket.survey["nonce"] != claim.nonce:
            raise SurveyNotAvailable("this survey link was replaced by a newer one")
        return claim, ticket

    def answer_survey(self, token: str, *, csat: int, nps: int | None, comment: str | None) -> UUID:
        """Record the customer's answer once; returns the ticket id."""
        claim, ticket = self.read_survey(token)
        ticket.answer_survey(claim.nonce, csat=csat, nps=nps, comment=comment, at=self.clock())
        self._save(ticket)
        return ticket.id

    def record_feedback(
        self, *, customer_id: UUID, ticket_id: UUID | None, kind: str, body: str, recorded_by: str
    ) -> UUID:
        """Record a complaint, suggestion or praise (linked to a ticket of the same customer, if given)."""
        if ticket_id is not None and self.ticket(ticket_id).customer_id != customer_id:
            raise InvalidInput("the ticket belongs to another customer")
        feedback = Feedback.record(
            customer_id=self.current_customer(customer_id),
            ticket_id=ticket_id,
            kind=kind,
            body=body,
            recorded_by=recorded_by,
            at=self.clock(),
        )
        self._save(feedback)
        return feedback.id

    def feedback(self, feedback_id: UUID) -> Feedback:
        """A feedback record."""
        return self._get(Feedback, feedback_id, "feedback")

    # --- customer lifecycle ---------------------------------------------------------------

    def current_customer(self, customer_id: UUID) -> UUID:
        """The customer work about `customer_id` belongs to now: the survivor of merges; erased ones refused."""
        for _ in range(MAX_MERGE_HOPS):
            record = self._customer_record(customer_id)
            if record is None:
                return customer_id
            if record.erased:
                raise CustomerErased(f"customer {customer_id} was erased")
            if record.merged_into is None:
                return customer_id
            customer_id = record.merged_into
        raise InvalidInput(f"customer {customer_id} is merged through more than {MAX_MERGE_HOPS} customers")

    def repoint_customer(self, merged_id: UUID, survivor_id: UUID) -> int:
        """Move a merged customer's tickets and feedback to the survivor; idempotent. Returns how many moved."""
        record = self._customer_record(merged_id) or CustomerRecord.note(merged_id)
        record.merge_into(survivor_id)
        ticket_ids, feedback_ids = self.views.customer_aggregates(merged_id)
        tickets = [self.ticket(t) for t in ticket_ids]
        records = [self.feedback(f) for f in feedback_ids]
        for ticket in tickets:
            ticket.change_customer(survivor_id)
        for feedback in records:
            feedback.change_customer(survivor_id)
        self._save(record, *tickets, *records)
        return len(tickets) + len(records)

    def erase_customer(self, customer_id: UUID) -> int:
        """Erase the customer's words from every ticket and feedback and shred their keys; safe to repeat."""
        record = self._customer_record(customer_id) or CustomerRecord.note(customer_id)
        record.erase()
        ticket_ids, feedback_ids = self.views.customer_aggregates(customer_id)
        tickets = [self.ticket(t) for t in ticket_ids]
        records = [self.feedback(f) for f in feedback_ids]
        for ticket in tickets:
            ticket.erase()
        for feedback in records:
            feedback.erase()
        self._save(record, *tickets, *records)
        for aggregate in (*tickets, *records):
            with contextlib.suppress(IntegrityError):  # an earlier attempt already took it
                self.take_snapshot(aggregate.id)
            self.pii_keys.shred(aggregate.id)
        return len(tickets) + len(records)

    def _customer_record(self, customer_id: UUID) -> CustomerRecord | None:
        with contextlib.suppress(AggregateNotFoundError):
            record: CustomerRecord = self.repository.get(customer_record_id(customer_id))
            return record
        return None

    # --- plumbing -------------------------------------------------------------------------

    @property
    def pii_keys(self) -> KeyStore:
        """The per-ticket and per-feedback keys that seal personal data in the stored events."""
        assert self.keys is not None, "set by construct_mapper"
        return self.keys

    def construct_mapper(self) -> Mapper[UUID]:
        """A mapper that seals each ticket's personal data with its own key."""
        self.keys = keystore_for(self.env.get)
        return PiiMapper(self.construct_transcoder(), self.keys, PII_FIELDS)

    def _queue_for(self, category: str, tier: int) -> UUID:
        """The queue the routing rule gives (`DeskViews.queue_for`); with none at all, the general tier-1 queue.

        That one is only named here: `_make_general` creates it once the command proved valid
        (bad input changes nothing).
        """
        found = self.views.queue_for(category, tier)
        return queue_id_for(GENERAL, 1) if found is None else found

    def _make_general(self, queue_id: UUID | None) -> None:
        """Create the general tier-1 queue if `queue_id` is it and it does not exist yet.

        Its id is fixed, so processes racing to create it agree, and the loser finds it made.
        """
        if queue_id != queue_id_for(GENERAL, 1) or queue_id in self.repository:
            return
        try:
            self._save(Queue.create(name=GENERAL_NAME, category=GENERAL, tier=1))
        except StaleVersion:
            log.info("the general queue was created by another process")

    def _route(self, ticket: Ticket, queue_id: UUID | None, *, by: str, skip: str | None = None) -> None:
        """Give the ticket to the queue's next qualifying agent with room, if any."""
        if queue_id is None:
            return
        self._make_general(queue_id)
        rotation = self.queue(queue_id).rotation()
        counts = self.views.open_tickets_per_agent()
        if skip is not None:
            rotation = [m for m in rotation if m.agent != skip]
        agent = next_agent(
            rotation,
            needed_skills=frozenset(ticket.skills),
            open_tickets=counts,
            last_assigned=self.views.last_round_robin(queue_id),
        )
        if agent is not None:
            ticket.assign(agent, queue_id=queue_id, method="round_robin", by=by, at=self.clock())

    def _token(self, ticket_id: UUID, nonce: str, survey: dict[str, Any] | None) -> str:
        if self.signer is None:
            raise SurveyNotAvailable("surveys are not configured (CRM_SUPPORT_SURVEY_SECRET)")
        assert survey is not None
        return self.signer.issue(SurveyClaim(ticket_id, nonce, survey["expires_at"]))

    def _claim(self, token: str) -> SurveyClaim:
        if self.signer is None:
            raise SurveyNotAvailable("surveys are not configured (CRM_SUPPORT_SURVEY_SECRET)")
        try:
            return self.signer.verify(token)
        except InvalidSurveyToken:
            raise SurveyForged("this survey link is not valid") from None

    def _get(self, cls: type[A], ident: UUID, what: str) -> A:
        try:
            found: Aggregate = self.repository.get(ident)
        except AggregateNotFoundError:
            raise NotFound(what, ident) from None
        if not isinstance(found, cls):
            raise NotFound(what, ident)
        return found

    def _load(self, cls: type[A], ident: UUID, expected_version: int | None, what: str) -> A:
        found = self._get(cls, ident, what)
        if expected_version is not None and expected_version != found.version:
            raise StaleVersion(expected_version, found.version, ident)
        return found

    def _save(self, *aggregates: Aggregate) -> None:
        """Save atomically; if a concurrent writer got there first, this decision is stale."""
        save_or_stale(self, aggregates, StaleVersion)
