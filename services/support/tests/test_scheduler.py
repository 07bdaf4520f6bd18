"""The SLA scheduler: warning then breach, exactly once per ticket and target, across restarts and races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from services.support.application import SupportApplication
from services.support.calendar import BusinessCalendar
from services.support.domain import StaleVersion
from services.support.scheduler import SlaScheduler
from services.support.sla import SlaPolicy
from services.support.tests.conftest import FakeClock
from shared.platform.eventstore import EventStoreSettings, persistence_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "support.sqlite")))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, tzinfo=UTC))


def open_ticket(app: SupportApplication) -> UUID:
    always = BusinessCalendar.always_open()
    app.set_calendar(
        expected_version=None, timezone="UTC", windows=[[list(w) for w in d] for d in always.windows], holidays=[]
    )
    app.set_policies(
        expected_version=None, policies={p: SlaPolicy(10, 60) for p in ("P1", "P2", "P3", "P4")}, warn_fraction=0.5
    )
    return app.open_ticket(
        customer_id=uuid4(),
        channel="web",
        subject="Refund",
        description="Where is my refund?",
        category="billing",
        priority="P2",
        opened_by="agent",
    )


def sla_events(app: SupportApplication) -> list[str]:
    names = [
        type(app.mapper.to_domain_event(n)).__name__ for n in app.recorder.select_notifications(start=1, limit=1000)
    ]
    return [n for n in names if n.startswith("Sla")]


def test_warning_then_breach_exactly_once_even_after_a_restart(env: dict[str, str], clock: FakeClock) -> None:
    app = SupportApplication(env=env, clock=clock)
    ticket_id = open_ticket(app)
    clock.advance(minutes=4)
    assert SlaScheduler(app).tick().warned == 0
    clock.advance(minutes=2)
    assert SlaScheduler(app).tick().warned == 1
    restarted = SupportApplication(env=env, clock=clock)  # a new process over the same store
    assert SlaScheduler(restarted).tick().warned == 0
    clock.advance(minutes=5)
    report = SlaScheduler(restarted).tick()
    assert (report.warned, report.breached) == (0, 1)
    assert SlaScheduler(SupportApplication(env=env, clock=clock)).tick().breached == 0
    assert sla_events(app) == ["SlaWarned", "SlaBreached"]
    assert restarted.ticket(ticket_id).sla_recorded == ["first_response:warning", "first_response:breach"]


def test_a_concurrent_scheduler_loses_with_a_version_conflict(env: dict[str, str], clock: FakeClock) -> None:
    first = SupportApplication(env=env, clock=clock)
    ticket_id = open_ticket(first)
    clock.advance(minutes=6)
    second = SupportApplication(env=env, clock=clock)
    loaded = second.ticket(ticket_id)  # the second scheduler decided on the same version...
    first.record_sla(ticket_id, version=None, kind="warning", target="first_response", elapsed_seconds=360, due_at=None)
    loaded.record_sla("warning", "first_response", elapsed_seconds=360, due_at=None, at=clock())
    decided_on = loaded.version - len(loaded.pending_events)
    with pytest.raises(StaleVersion) as lost:
        second._save(loaded)  # ...and loses instead of emitting twice
    assert sla_events(first) == ["SlaWarned"]
    # the 409 names both versions (it said "is at version N, not N": read after save() cleared the events)
    stored = first.ticket(ticket_id).version
    assert (lost.value.expected, lost.value.actual) == (decided_on, stored)
    assert str(lost.value) == f"{ticket_id} is at version {stored}, not {decided_on}"


def test_pending_pauses_the_sla_clock(env: dict[str, str], clock: FakeClock) -> None:
    app = SupportApplication(env=env, clock=clock)
    ticket_id = open_ticket(app)
    app.reply(ticket_id, expected_version=None, author="agent", body="Could you send the order number?")
    app.change_status(ticket_id, expected_version=None, to="pending", by="agent")
    clock.advance(days=3)
    assert SlaScheduler(app).tick().warned == 0, "the resolution clock stood still while pending"


def test_resolved_tickets_close_themselves_after_the_configured_days(env: dict[str, str], clock: FakeClock) -> None:
    app = SupportApplication(env=env, clock=clock)
    ticket_id = open_ticket(app)
    app.reply(ticket_id, expected_version=None, author="agent", body="Refunded.")
    app.change_status(ticket_id, expected_version=None, to="resolved", by="agent")
    clock.advance(days=2)
    assert SlaScheduler(app).tick().closed == 0
    clock.advance(days=1, seconds=1)
    assert SlaScheduler(app).tick().closed == 1
    assert app.ticket(ticket_id).status == "closed"
    assert clock() - timedelta(days=3) > app.ticket(ticket_id).opened_at


def test_a_waiting_ticket_is_assigned_once_an_agent_has_room(env: dict[str, str], clock: FakeClock) -> None:
    app = SupportApplication(env=env, clock=clock)
    queue = app.create_queue(name="Billing", category="billing", tier=1)
    app.set_member(queue, expected_version=None, agent="ann@example.com", skills=[], cap=1)
    first = open_ticket(app)
    second = open_ticket(app)
    assert (app.ticket(first).assignee, app.ticket(second).assignee) == ("ann@example.com", None)
    assert SlaScheduler(app).tick().assigned == 0, "still at cap"
    app.reply(first, expected_version=None, author="ann@example.com", body="Done")
    app.change_status(first, expected_version=None, to="resolved", by="ann@example.com")
    assert SlaScheduler(app).tick().assigned == 1
    assert app.ticket(second).assignee == "ann@example.com"


def test_unversioned_commands_racing_on_one_ticket_all_land_and_versioned_ones_still_conflict(
    env: dict[str, str], clock: FakeClock
) -> None:
    """Two processes, four threads each: a note without `expected_version` is never a 409 (each used to be)."""
    processes = [SupportApplication(env=env, clock=clock) for _ in range(2)]
    ticket_id = open_ticket(processes[0])
    start = processes[0].ticket(ticket_id).version

    def note(n: int) -> int:
        version, _ = processes[n % 2].add_note(ticket_id, expected_version=None, author=f"a{n}", body=f"note {n}")
        return version

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(note, range(8)))
    assert sorted(versions) == list(range(start + 1, start + 9))  # each answer is the version it wrote
    assert processes[1].ticket(ticket_id).version == start + 8
    with pytest.raises(StaleVersion):
        processes[1].add_note(ticket_id, expected_version=start, author="late", body="decided on an old version")
