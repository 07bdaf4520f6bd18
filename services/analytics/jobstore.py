"""Long work as job resources: state, progress and errors kept in MongoDB, one job of a kind at a time.

Why: a refit at 100k customers takes minutes. Run as one HTTP request, it held a
process-local lock for as long as it ran, even after its client had given up (every
later refit got 409 for over 20 minutes), and nobody could see how far it was. A job is
started by a request (or by `crm refit`, or by the schedule), runs in the background of
the process that started it, and is read back with `GET /jobs/{id}`.

- **One at a time, across processes**: a job takes its kind's lock, a document with a
  known `_id` (`lock:<kind>`) in the `job_locks` collection. Inserting it is atomic (the
  `_id` is unique), so two API replicas and the scheduled jobs process cannot both win.
- **Clients do not hold locks**: the lock belongs to the job, which ends (and releases
  it) whether or not anyone is still waiting for it.
- **Dead processes do not hold locks**: a running job's process writes a heartbeat every
  `heartbeat_seconds`. A job whose heartbeat is older than `stale_after_seconds` belongs
  to a process that died; whoever finds it next (a process starting, a new job of its
  kind, a read of the job) marks it failed and releases its lock.

Every query here is by `_id`, except `recover` and `recent`, which read the small `jobs`
collection (one document per job run).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import uuid4

from pydantic import BaseModel, Field
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.events.timestamps import IsoDateTime

log = logging.getLogger("crm.analytics.jobs")

JOBS = "jobs"
LOCKS = "job_locks"
State = Literal["running", "succeeded", "failed"]
Clock = Callable[[], datetime]
Db = AsyncDatabase[dict[str, Any]]


class Progress(BaseModel):
    """How far a job is: the stage it is in, and steps done out of the total (when known)."""

    stage: str = "starting"
    done: int = 0
    total: int | None = None
    stages: dict[str, float] = Field(
        default_factory=dict,
        description="Seconds each stage took, in the order they ran: a stage appears once the next one begins "
        "or the job ends, so a finished job's stages add up to its run time.",
    )


class Job(BaseModel):
    """One run of long work: what it is, where it is, and how it ended."""

    id: str
    kind: str = Field(description="What the job does, e.g. `refit`.")
    state: State
    params: dict[str, Any] = Field(default_factory=dict, description="What the job was asked to do.")
    progress: Progress = Field(default_factory=Progress)
    created_at: IsoDateTime
    heartbeat_at: IsoDateTime
    finished_at: IsoDateTime | None = None
    seconds: float | None = Field(default=None, description="Run time, once finished.")
    result: dict[str, Any] | None = None
    error: str | None = None
    owner: str = Field(description="The process running it (host:pid:instance).")
    started_by: str | None = Field(default=None, description="Who asked for it (the token's subject, or a process).")

    def document(self) -> dict[str, Any]:
        """The job's MongoDB document (`_id` = job id)."""
        return {"_id": self.id} | self.model_dump(exclude={"id"})

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Job:
        """The job a document holds."""
        return cls.model_validate({"id": doc["_id"]} | {k: v for k, v in doc.items() if k != "_id"})


class JobConflict(RuntimeError):
    """A job of the same kind is running; `running` is that job."""

    def __init__(self, running: Job) -> None:
        since = running.created_at.astimezone(UTC).isoformat(timespec="seconds")
        super().__init__(f"a {running.kind} job is already running: {running.id}, started {since}")
        self.running = running


Report = Callable[[str, int, int | None], None]
"""What work calls to report progress: (stage, done, total)."""
Work = Callable[[Report], Awaitable[dict[str, Any]]]
"""The job's work: given a progress reporter, returns the job's result (JSON-able)."""


_CURRENT: ContextVar[str | None] = ContextVar("analytics_current_job", default=None)


def current_job() -> str:
    """The id of the job whose work is running here (work that names what it keeps after its job)."""
    job_id = _CURRENT.get()
    if job_id is None:
        raise RuntimeError("not inside a job's work")
    return job_id


def _lock_id(kind: str) -> str:
    """`_id` of the lock document of a kind of job."""
    return f"lock:{kind}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class JobStore:
    """Starts, tracks and recovers jobs; see the module docstring."""

    def __init__(
        self,
        db: Db,
        *,
        heartbeat_seconds: float = 5.0,
        stale_after_seconds: float = 60.0,
        clock: Clock = _utcnow,
    ) -> None:
        self.db = db
        """Where jobs, their locks and their results (`jobresults`) live: beside the generations, not in one."""
        self.jobs = db[JOBS]
        self.locks = db[LOCKS]
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_after = timedelta(seconds=stale_after_seconds)
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def get(self, job_id: str) -> Job | None:
        """The job, marked failed first if its process died."""
        doc = await self.jobs.find_one({"_id": job_id})
        if doc is None:
            return None
        return await self._unless_stale(Job.of(doc))

    async def recent(self, limit: int = 20) -> list[Job]:
        """The latest jobs, newest first."""
        cursor = self.jobs.find({}).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [await self._unless_stale(Job.of(doc)) async for doc in cursor]

    async def recover(self) -> list[str]:
        """Mark failed every running job whose process died (call at process start); their ids."""
        running = [Job.of(doc) async for doc in self.jobs.find({"state": "running"})]
        failed = []
        for job in running:
            if (await self._unless_stale(job)).state == "failed":
                failed.append(job.id)
        return failed

    async def start(self, kind: str, work: Work, *, params: dict[str, Any] | None = None, by: str | None = None) -> Job:
        """Start `work` in the background as a job of `kind`; JobConflict if one is running."""
        job = await self._begin(kind, params or {}, by)
        self._tasks[job.id] = asyncio.create_task(self._run(job, work), name=f"job-{job.id}")
        return job

    async def run(self, kind: str, work: Work, *, params: dict[str, Any] | None = None, by: str | None = None) -> Job:
        """Run `work` as a job of `kind` here and wait for its end; JobConflict if one is running."""
        job = await self._begin(kind, params or {}, by)
        await self._run(job, work)
        finished = await self.get(job.id)
        assert finished is not None  # written by _run just before
        return finished

    async def wait(self, job_id: str) -> None:
        """Wait for a job this process started in the background (tests, shutdown)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def _begin(self, kind: str, params: dict[str, Any], by: str | None) -> Job:
        now = self.clock()
        job = Job(
            id=uuid4().hex,
            kind=kind,
            state="running",
            params=params,
            created_at=now,
            heartbeat_at=now,
            owner=self.owner,
            started_by=by,
        )
        # The job's document first, its lock second: whoever holds a lock has a document,
        # so a lock whose job is missing or finished is known to be free.
        await self.jobs.insert_one(job.document())
        try:
            await self._lock(job)
        except JobConflict:
            await self.jobs.delete_one({"_id": job.id})
            raise
        log.info("job %s (%s) started by %s", job.id, kind, by or "?")
        return job

    async def _lock(self, job: Job) -> None:
        lock = {"_id": _lock_id(job.kind), "job_id": job.id, "taken_at": job.created_at}
        for _ in range(3):  # a freed lock can be taken by another process first: look again
            try:
                await self.locks.insert_one(lock)
                return
            except DuplicateKeyError:
                held = await self.locks.find_one({"_id": lock["_id"]})
                holder = await self.get(held["job_id"]) if held else None
                if holder is not None and holder.state == "running":
                    raise JobConflict(holder) from None
                if held is not None:  # its job ended (or died and was just failed): the lock is free
                    await self.locks.delete_one({"_id": lock["_id"], "job_id": held["job_id"]})
        raise RuntimeError(f"the {job.kind} lock changed hands three times while job {job.id} asked for it")

    async def _run(self, job: Job, work: Work) -> None:
        progress = Progress()
        entered = time.monotonic()

        def report(stage: str, done: int, total: int | None) -> None:
            nonlocal entered
            now = time.monotonic()
            progress.stages[progress.stage] = round(progress.stages.get(progress.stage, 0.0) + now - entered, 3)
            progress.stage, progress.done, progress.total, entered = stage, done, total, now

        beating = asyncio.create_task(self._heartbeat(job.id, progress))
        fields: dict[str, Any]
        token = _CURRENT.set(job.id)
        try:
            result = await work(report)
            fields = {"state": "succeeded", "result": result}
        except Exception as exc:  # any failure ends the job as failed, with its reason
            log.exception("job %s (%s) failed", job.id, job.kind)
            fields = {"state": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000]}
        finally:
            _CURRENT.reset(token)
            beating.cancel()
        report(progress.stage, progress.done, progress.total)  # the last stage's time
        finished = self.clock()
        fields |= {
            "finished_at": finished,
            "heartbeat_at": finished,
            "seconds": round((finished - job.created_at).total_seconds(), 3),
            "progress": progress.model_dump(),
        }
        try:
            await self.jobs.update_one({"_id": job.id, "state": "running"}, {"$set": fields})
        finally:
            await self.locks.delete_one({"_id": _lock_id(job.kind), "job_id": job.id})
            self._tasks.pop(job.id, None)
        log.info("job %s (%s) %s", job.id, job.kind, fields["state"])

    async def _heartbeat(self, job_id: str, progress: Progress) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                update = {"heartbeat_at": self.clock(), "progress": progress.model_dump()}
                await self.jobs.update_one({"_id": job_id, "state": "running"}, {"$set": update})
            except Exception:  # a missed beat is retried; the job itself goes on
                log.warning("job %s: heartbeat not written", job_id, exc_info=True)

    async def _unless_stale(self, job: Job) -> Job:
        if job.state != "running" or self.clock() - job.heartbeat_at <= self.stale_after:
            return job
        error = f"the process running it ({job.owner}) stopped sending heartbeats at {job.heartbeat_at.isoformat()}"
        now = self.clock()
        await self.jobs.update_one(
            {"_id": job.id, "state": "running"},
            {"$set": {"state": "failed", "error": error, "finished_at": now}},
        )
        await self.locks.delete_one({"_id": _lock_id(job.kind), "job_id": job.id})
        log.warning("job %s (%s) marked failed: %s", job.id, job.kind, error)
        return job.model_copy(update={"state": "failed", "error": error, "finished_at": now})
