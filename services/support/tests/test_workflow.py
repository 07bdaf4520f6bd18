"""The ticket workflow: every legal move works, every illegal one is refused and records nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.support.domain import IllegalTransition, ReopenWindowClosed, TicketClosed
from services.support.sla import SlaPolicy
from services.support.ticket import TRANSITIONS, Ticket

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
WEEK = timedelta(days=7)
STATUSES = ("new", "open", "pending", "resolved", "closed")
PATHS = {"new": [], "open": ["open"], "pending": ["open", "pending"], "resolved": ["open", "resolved"]}
PATHS["closed"] = [*PATHS["resolved"], "closed"]


def ticket_in(status: str) -> Ticket:
    ticket = Ticket.open(
        customer_id=uuid4(),
        channel="chat",
        subject="Login fails",
        description="Cannot log in since Monday",
        category="account",
        priority="P3",
        policy=SlaPolicy(60, 240),
        opened_by="agent",
        at=T0,
    )
    for step in PATHS[status]:
        ticket.change_status(step, by="agent", at=T0, reopen_window=WEEK)
    return ticket


@pytest.mark.parametrize(("current", "wanted"), [(c, w) for c in STATUSES for w in STATUSES if w not in TRANSITIONS[c]])
def test_every_illegal_transition_is_rejected_and_records_nothing(current: str, wanted: str) -> None:
    ticket = ticket_in(current)
    version = ticket.version
    with pytest.raises(IllegalTransition):
        ticket.change_status(wanted, by="agent", at=T0, reopen_window=WEEK)
    assert (ticket.status, ticket.version) == (current, version)


@pytest.mark.parametrize(("current", "wanted"), [(c, w) for c in STATUSES for w in TRANSITIONS[c]])
def test_every_legal_transition_is_recorded(current: str, wanted: str) -> None:
    ticket = ticket_in(current)
    ticket.change_status(wanted, by="agent", at=T0, reopen_window=WEEK)
    assert ticket.status == wanted


def test_reopening_is_allowed_only_within_the_window() -> None:
    ticket = ticket_in("resolved")
    with pytest.raises(ReopenWindowClosed):
        ticket.change_status("open", by="agent", at=T0 + WEEK + timedelta(seconds=1), reopen_window=WEEK)
    ticket.change_status("open", by="agent", at=T0 + WEEK, reopen_window=WEEK)
    assert (ticket.status, ticket.resolved_at) == ("open", None)


def test_pending_and_resolved_pause_the_clock_and_reopening_resumes_it() -> None:
    ticket = ticket_in("open")
    ticket.change_status("pending", by="a", at=T0 + timedelta(hours=1), reopen_window=WEEK)
    ticket.change_status("resolved", by="a", at=T0 + timedelta(hours=2), reopen_window=WEEK)
    ticket.change_status("open", by="a", at=T0 + timedelta(hours=3), reopen_window=WEEK)
    assert ticket.pauses == [[T0 + timedelta(hours=1), T0 + timedelta(hours=3)]]


def test_a_closed_ticket_takes_no_more_work() -> None:
    ticket = ticket_in("closed")
    with pytest.raises(TicketClosed):
        ticket.reply("agent", "hello", T0)


def test_only_the_first_public_reply_is_the_first_response() -> None:
    ticket = ticket_in("open")
    ticket.reply("agent", "first", T0 + timedelta(minutes=5))
    ticket.reply("agent", "second", T0 + timedelta(minutes=9))
    assert ticket.first_responded_at == T0 + timedelta(minutes=5)
