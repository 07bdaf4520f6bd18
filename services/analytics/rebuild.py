"""Blue/green rebuild: a new projection generation from offset 0, switched in when caught up.

The rebuild consumes every stream under the new generation's own consumer group into
the new generation's own collections, with the same pure fold as the live projector
(`projection.plan`), while the API keeps serving the active generation.

Nobody reads a generation while it builds, so the rebuild keeps every 360 document in
memory and writes them out only at checkpoints, all at once into a staging collection
that then replaces the documents' collection; the timeline is appended per batch. A
document is thus written once per checkpoint instead of once per batch that touches
it: on FerretDB each replaced document is its own SQLite transaction (0.72 ms a 360
document in a bulk of 1,000) while `insert_many` wrote the same 1,000 in 72 ms, so this
still pays after the store's scans were fixed (measured on 20,000 events: rebuild 1,799
events/s over 2,000 customers, the live projector 844 events/s over 5,000; docs/read-store.md).
Offsets are
committed right after a checkpoint, so a crashed rebuild resumes from the last one:
it reloads the documents and re-reads the records after it, which the folds'
version checks and the timeline's event ids make idempotent.

When the remaining lag is under the threshold the rebuild stops consuming, carries the
jobs' derived data across (metrics recomputed on the new generation, fitted models and
scores copied), and switches the active generation with one compare-and-set. The live
projector notices within a second and continues the new generation from the offsets
the rebuild committed, so nothing is missed and nothing is applied twice.

`until` builds a point-in-time generation: only events up to that time are projected,
the rebuild stops at the end of the log as it was when it started, and the
generation is kept for reading, never switched live.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient, ReplaceOne
from pymongo.errors import OperationFailure

from services.analytics.generations import Db, Generation, GenerationConflict, Generations
from services.analytics.metrics import METRICS, recompute_metrics
from services.analytics.packed import PackedDocuments
from services.analytics.projection import CUSTOMER_360, BatchResult, Customer360Projection, Item, plan
from services.analytics.projector import Record, parse
from services.analytics.settings import AnalyticsSettings
from shared.events.topics import STREAMS
from shared.platform.kafka import KafkaSettings

log = logging.getLogger("crm.analytics.rebuild")

ProgressCallback = Callable[[int, int], None]
"""Called after each batch with (records consumed, records in the log so far)."""


@dataclass
class RebuildResult:
    """What a rebuild did, for the operator and for scripts (`--json`)."""

    generation: int
    database: str
    group: str
    resumed: bool
    until: str | None
    consumed: int = 0
    """Records read by this run (a resumed run counts only its own)."""
    applied: int = 0
    duplicates: int = 0
    after_until: int = 0
    unprocessable: int = 0
    """Records that are not valid events (the live projector dead-lettered them)."""
    failed: int = 0
    lag_at_switch: int | None = None
    switched_from: int | None = None
    dropped: list[int] = field(default_factory=list)
    drop_skipped: str | None = None
    consume_seconds: float = 0.0
    """Time spent consuming and projecting (without the derived data and the switch)."""
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Records consumed and projected per second by this run."""
        return self.consumed / self.consume_seconds if self.consume_seconds else 0.0


@dataclass
class _Offsets:
    begin: dict[TopicPartition, int]
    end: dict[TopicPartition, int]

    def total(self) -> int:
        return sum(self.end[tp] - self.begin.get(tp, 0) for tp in self.end)


class InMemoryDocuments:
    """A building generation's 360 documents, held in memory (as BSON between batches), written out at checkpoints.

    A checkpoint writes every document into `customer_360_staging`, records that the
    staging is complete, then drops `customer_360` and renames the staging in its
    place (FerretDB cannot rename over an existing collection). `recover` finishes or
    discards a checkpoint a crash interrupted.
    """

    STAGING = f"{CUSTOMER_360}_staging"

    def __init__(self, projection: Customer360Projection, generations: Generations, number: int) -> None:
        self.projection = projection
        self.db = projection.customers.database
        self.generations = generations
        self.number = number
        self.docs = PackedDocuments()
        self.kept: set[str] = set()
        """Documents to write: those loaded and those an applied event changed."""
        self.chunk = 1_000
        self._writing: asyncio.Task[None] | None = None

    async def recover(self) -> None:
        """Finish the swap of a complete staging collection, or drop an incomplete one."""
        generation = await self.generations.get(self.number)
        staged = generation is not None and generation.staged
        if self.STAGING not in await self.db.list_collection_names():
            return
        if staged:
            await self._swap()
        else:
            await self.db.drop_collection(self.STAGING)

    async def load(self) -> None:
        """Every document the generation already holds (a resumed rebuild); nothing for a new one."""
        self.docs, self.kept = PackedDocuments(), set()
        async for doc in self.projection.customers.find({}):
            self.docs[doc["_id"]] = doc
            self.kept.add(doc["_id"])
            if len(self.kept) % 1_000 == 0:
                self.docs.pack()
        self.docs.pack()

    async def apply(self, items: list[Item]) -> BatchResult:
        """Fold `items` into the documents in memory; start appending their timeline and business entries.

        The append runs while the caller reads and folds the next batch: a rebuild
        waits on the store for most of its time, and the store and this process each
        have a core of their own. One append at a time, in batch order (an erasure
        wipes entries an earlier batch wrote); `flush` waits for it.
        """
        result, batch = plan(self.docs, items)
        self.docs.pack()
        await self.flush()
        self._writing = asyncio.create_task(self.projection.append(batch))
        self.kept |= batch.touched
        return result

    async def flush(self) -> None:
        """Wait until the last batch's timeline entries are written (raises what the write raised)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            await writing

    def abandon(self) -> None:
        """Stop a write still running (the rebuild failed; a resumed one re-reads from the last checkpoint)."""
        writing, self._writing = self._writing, None
        if writing is not None and not writing.cancel() and not writing.cancelled():
            writing.exception()  # retrieved: the failure the caller is already raising is the one to report

    async def checkpoint(self) -> None:
        """Write every document: into the staging collection, then in place of the documents' collection."""
        await self.flush()
        await self.db.drop_collection(self.STAGING)
        staging = self.db[self.STAGING]
        kept = sorted(self.kept)
        for start in range(0, len(kept), self.chunk):
            raw = [self.docs.raw(c) for c in kept[start : start + self.chunk]]
            await staging.insert_many(raw, ordered=False)
        await self.generations.record(self.number, staged=True)
        await self._swap()

    async def _swap(self) -> None:
        await self.db.drop_collection(CUSTOMER_360)
        try:
            await self.db[self.STAGING].rename(CUSTOMER_360)
        except OperationFailure:  # renamed by an earlier, interrupted attempt
            if self.STAGING in await self.db.list_collection_names():
                raise
        await self.generations.record(self.number, staged=False)


class Rebuild:
    """One rebuild run of the analytics projections; see the module docstring."""

    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        settings: AnalyticsSettings,
        kafka: KafkaSettings,
        *,
        lag_threshold: int = 100,
        on_progress: ProgressCallback | None = None,
        poll_ms: int = 500,
        drop_wait_seconds: float = 30.0,
    ) -> None:
        self.client = client
        self.settings = settings
        self.kafka = kafka
        self.generations = Generations(client, settings)
        self.lag_threshold = lag_threshold
        self.on_progress = on_progress
        self.poll_ms = poll_ms
        self.drop_wait_seconds = drop_wait_seconds

    async def run(
        self,
        *,
        until: datetime | None = None,
        switch: bool = True,
        drop_old: bool = False,
        restart: bool = False,
        max_seconds: float | None = None,
        scratch: bool = False,
    ) -> RebuildResult:
        """Build (or resume) a generation; switch to it when caught up unless `until`, `scratch` or not `switch`.

        A `scratch` generation (for `crm verify`) is always new and never switched.
        """
        until = until.astimezone(UTC) if until is not None else None
        if scratch:
            generation = await self.generations.begin(until=until, scratch=True)
            switch = False
        else:
            generation = await self._generation(until, restart)
        result = RebuildResult(
            generation=generation.number,
            database=generation.database,
            group=generation.group,
            resumed=generation.events > 0,
            until=until.isoformat() if until else None,
        )
        started = time.monotonic()
        projection = Customer360Projection(self.client[generation.database], bulk_chunk=self.settings.bulk_chunk)
        await projection.ensure_indexes()
        memory = InMemoryDocuments(projection, self.generations, generation.number)
        await memory.recover()
        await memory.load()
        lag = await self._consume(generation, memory, result, until, max_seconds, started)
        result.seconds = result.consume_seconds = time.monotonic() - started
        if lag is None:  # out of time: stays "building", resumable
            return result
        now = datetime.now(UTC)
        await self.generations.record(generation.number, caught_up_at=now)
        if until is not None or not switch:
            await self._carry_derived(None, self.client[generation.database], until or now)
            await self.generations.record(generation.number, status="ready")
            return result
        result.lag_at_switch = lag
        previous = await self.generations.active()
        await self._carry_derived(self.generations.database(previous), self.client[generation.database], now)
        await self.generations.switch(generation.number, expected=previous.number)
        result.switched_from = previous.number
        log.info("generation %s is active (was %s); lag at switch %s", generation.number, previous.number, lag)
        if drop_old:
            if await wait_until_left(self.kafka, previous.group, self.drop_wait_seconds):
                await self.generations.drop(previous.number)
                result.dropped.append(previous.number)
            else:
                result.drop_skipped = (
                    f"generation {previous.number} kept: its group {previous.group} still has members after "
                    f"{self.drop_wait_seconds:.0f}s (a projector that has not moved yet); drop it later with "
                    f"`crm projections drop {previous.number}`"
                )
                log.warning(result.drop_skipped)
        result.seconds = time.monotonic() - started
        return result

    async def _generation(self, until: datetime | None, restart: bool) -> Generation:
        unfinished = await self.generations.unfinished(until=until)
        if unfinished is not None and restart:
            await self.generations.record(unfinished.number, status="abandoned")
            await self.generations.drop(unfinished.number)
            unfinished = None
        if unfinished is not None:
            log.info("resuming generation %s after %s records", unfinished.number, unfinished.events)
            return unfinished
        return await self.generations.begin(until=until)

    def _consumer(self, generation: Generation) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *[self.kafka.topic(t) for t in STREAMS],
            bootstrap_servers=self.kafka.bootstrap_servers.split(","),
            client_id=f"{self.settings.group_id}-rebuild",
            group_id=self.kafka.group(generation.group),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.settings.batch_size,
            request_timeout_ms=self.kafka.request_timeout_ms,
            **self.kafka.client_options(),
        )

    async def _consume(
        self,
        generation: Generation,
        memory: InMemoryDocuments,
        result: RebuildResult,
        until: datetime | None,
        max_seconds: float | None,
        started: float,
    ) -> int | None:
        """Consume until caught up; the lag left (None if `max_seconds` ran out first)."""
        consumer = self._consumer(generation)
        await consumer.start()
        options = self.settings.rebuild
        try:
            target: _Offsets | None = None
            since, checkpointed_at = 0, time.monotonic()
            while True:
                batches = await consumer.getmany(timeout_ms=self.poll_ms, max_records=options.batch_size)
                records = [record for tp in sorted(batches, key=_order) for record in batches[tp]]
                if records:
                    await self._apply(memory, records, result, until)
                    since += len(records)
                if not consumer.assignment():
                    continue
                offsets = await self._offsets(consumer)
                target = target or offsets
                position = {tp: await consumer.position(tp) for tp in offsets.end}
                consumed = sum(position[tp] - offsets.begin.get(tp, 0) for tp in position)
                if self.on_progress is not None:
                    self.on_progress(consumed, offsets.total())
                if until is not None:
                    done = all(position.get(tp, 0) >= end for tp, end in target.end.items())
                    lag: int | None = 0 if done else None
                else:
                    behind: int = sum(offsets.end[tp] - position[tp] for tp in position)
                    lag = behind if behind <= self.lag_threshold else None
                out_of_time = max_seconds is not None and time.monotonic() - started > max_seconds
                due = (
                    since >= options.checkpoint_records
                    or time.monotonic() - checkpointed_at >= options.checkpoint_seconds
                )
                if since and (due or lag is not None or out_of_time):
                    await memory.checkpoint()
                    await consumer.commit()
                    await self.generations.record(generation.number, events=consumed)
                    since, checkpointed_at = 0, time.monotonic()
                if lag is not None:
                    return lag
                if out_of_time:
                    return None
        finally:
            memory.abandon()
            await consumer.stop()

    async def _offsets(self, consumer: AIOKafkaConsumer) -> _Offsets:
        partitions = sorted(consumer.assignment(), key=_order)
        begin = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        return _Offsets(begin=dict(begin), end=dict(end))

    async def _apply(
        self,
        memory: InMemoryDocuments,
        records: list[Record],
        result: RebuildResult,
        until: datetime | None,
    ) -> None:
        good, bad = parse(records)
        result.consumed += len(records)
        result.unprocessable += len(bad)
        items = [item for _, item in good if until is None or item[0].time <= until]
        result.after_until += len(good) - len(items)
        applied = await memory.apply(items)
        result.applied += len(applied.applied)
        result.duplicates += applied.skipped
        result.failed += len(applied.failed)
        for index, exc in applied.failed:
            log.warning("event %s could not be applied: %s", items[index][0].id, exc)

    async def _carry_derived(self, old: Db | None, new: Db, as_of: datetime) -> None:
        """Give the new generation the jobs' data: metrics recomputed; fitted models and scores copied.

        Models and scores are fits over the same log, so they carry over; the jobs
        process refits on its own schedule. A point-in-time generation (`old` None)
        gets metrics as of its `until` and no scores.
        """
        from services.analytics import jobs  # the models' scipy and sklearn load only when a switch needs them

        await recompute_metrics(new, self.settings, as_of)
        if old is None:
            return
        models = [d async for d in old[jobs.MODELS].find({})]
        if models:
            await new[jobs.MODELS].bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in models])
        scores: dict[str, dict[str, Any]] = {
            str(d["_id"]): {k: d[k] for k in ("clv", "churn") if k in d}
            async for d in old[METRICS].find({"$or": [{"clv": {"$exists": True}}, {"churn": {"$exists": True}}]})
        }
        if scores:
            await jobs.write_scores(new, scores)


async def group_members(kafka: KafkaSettings, group: str) -> int:
    """How many consumers are in consumer group `group` right now."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=kafka.bootstrap_servers.split(","),
        request_timeout_ms=kafka.request_timeout_ms,
        **kafka.client_options(),
    )
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([kafka.group(group)])
        return sum(len(described[5]) for response in responses for described in response.groups)
    finally:
        await admin.close()


async def wait_until_left(kafka: KafkaSettings, group: str, seconds: float) -> bool:
    """Wait until `group` has no member (the live projector moved on); False if it still has one after `seconds`.

    Dropping a generation a projector still writes into would let its last batch
    recreate the collections; the projector leaves the group when it moves.
    """
    deadline = time.monotonic() + seconds
    while await group_members(kafka, group):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


def _order(tp: TopicPartition) -> tuple[str, int]:
    return tp.topic, tp.partition


__all__ = ["GenerationConflict", "Rebuild", "RebuildResult"]
