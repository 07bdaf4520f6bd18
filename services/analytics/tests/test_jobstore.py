"""Jobs: one of a kind at a time across processes, progress and errors recorded, dead processes' jobs failed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.analytics.jobstore import JOBS, LOCKS, JobConflict, JobStore, Report
from services.analytics.tests.memorydb import Database

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def stores(db: Database, clock: Clock) -> tuple[JobStore, JobStore]:
    """Two processes sharing one database."""
    return (
        JobStore(db, heartbeat_seconds=0.01, stale_after_seconds=60, clock=clock),  # type: ignore[arg-type]
        JobStore(db, heartbeat_seconds=0.01, stale_after_seconds=60, clock=clock),  # type: ignore[arg-type]
    )


async def test_a_job_reports_progress_and_its_result_and_frees_its_kind() -> None:
    db, clock = Database(), Clock()
    store, _ = stores(db, clock)
    release = asyncio.Event()

    async def work(report: Report) -> dict[str, Any]:
        report("metrics", 1, 4)
        await release.wait()
        clock.now += timedelta(seconds=3)
        return {"models": 2}

    job = await store.start("refit", work, params={"horizon_days": 90}, by="ana@example.com")
    await asyncio.sleep(0.05)  # a few heartbeats
    running = await store.get(job.id)
    assert running is not None
    assert (running.state, running.progress.stage, running.progress.done, running.progress.total) == (
        "running",
        "metrics",
        1,
        4,
    )
    release.set()
    await store.wait(job.id)
    done = await store.get(job.id)
    assert done is not None
    assert (done.state, done.result, done.seconds) == ("succeeded", {"models": 2}, 3.0)
    assert done.params == {"horizon_days": 90}
    assert db[LOCKS].docs == {}
    assert (await store.run("refit", _returns({"again": True}))).state == "succeeded"


async def test_a_second_job_of_a_kind_is_refused_naming_the_running_one_even_from_another_process() -> None:
    db, clock = Database(), Clock()
    first, second = stores(db, clock)
    release = asyncio.Event()

    async def work(report: Report) -> dict[str, Any]:
        await release.wait()
        return {}

    running = await first.start("refit", work)
    with pytest.raises(JobConflict) as refused:
        await second.start("refit", _returns({}))
    assert refused.value.running.id == running.id
    assert running.id in str(refused.value)
    assert list(db[JOBS].docs) == [running.id], "the refused job leaves no document"
    assert (await second.run("rebuild", _returns({}))).state == "succeeded", "other kinds are not blocked"
    release.set()
    await first.wait(running.id)


async def test_a_failing_job_records_its_error_and_frees_its_kind() -> None:
    db, clock = Database(), Clock()
    store, _ = stores(db, clock)

    async def work(report: Report) -> dict[str, Any]:
        raise ValueError("too few repeat customers")

    job = await store.run("refit", work)
    assert (job.state, job.error) == ("failed", "ValueError: too few repeat customers")
    assert db[LOCKS].docs == {}


async def test_a_job_whose_process_died_is_failed_and_its_lock_freed() -> None:
    db, clock = Database(), Clock()
    dead, alive = stores(db, clock)
    job = await dead._begin("refit", {}, None)  # started, then the process was killed: no heartbeat ever again
    with pytest.raises(JobConflict):
        await alive.start("refit", _returns({}))
    clock.now += timedelta(seconds=61)
    assert await alive.recover() == [job.id]
    failed = await alive.get(job.id)
    assert failed is not None
    assert failed.state == "failed"
    assert failed.error is not None
    assert dead.owner in failed.error
    assert (await alive.run("refit", _returns({}))).state == "succeeded"


async def test_a_stale_lock_is_taken_over_by_the_next_job_without_a_restart() -> None:
    db, clock = Database(), Clock()
    dead, alive = stores(db, clock)
    job = await dead._begin("refit", {}, None)
    clock.now += timedelta(seconds=61)
    assert (await alive.run("refit", _returns({}))).state == "succeeded"
    old = await alive.get(job.id)
    assert old is not None
    assert old.state == "failed"


async def test_recent_lists_the_newest_first() -> None:
    db, clock = Database(), Clock()
    store, _ = stores(db, clock)
    ids = []
    for _ in range(3):
        ids.append((await store.run("refit", _returns({}))).id)
        clock.now += timedelta(seconds=1)
    assert [job.id for job in await store.recent(limit=2)] == ids[::-1][:2]


def _returns(result: dict[str, Any]) -> Any:
    async def work(report: Report) -> dict[str, Any]:
        return result

    return work


async def test_a_finished_job_says_how_long_each_stage_took() -> None:
    store, _ = stores(Database(), Clock())

    async def work(report: Report) -> dict[str, Any]:
        report("metrics", 0, None)
        await asyncio.sleep(0.05)
        report("metrics", 1, 2)  # progress within a stage adds to the same stage
        await asyncio.sleep(0.05)
        report("clv", 0, None)
        await asyncio.sleep(0.02)
        return {}

    done = await store.run("refit", work)
    stages = done.progress.stages
    assert list(stages) == ["starting", "metrics", "clv"]
    assert stages["metrics"] >= 0.1
    assert stages["clv"] >= 0.02
