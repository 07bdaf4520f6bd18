"""The customer 360 projection: its MongoDB collections and how events land in them."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.analytics import customer360
from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerErasedV1

CUSTOMER_360 = "customer_360"
TIMELINE = "customer_timeline"
DUPLICATE_KEY = 11000

Item = tuple[EventEnvelope, PublicEvent]


@dataclass
class BatchResult:
    """What a batch did: events applied, skipped as already applied, and those that failed."""

    applied: list[EventEnvelope] = field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[int, Exception]] = field(default_factory=list)
    """(index in the batch, error) of events whose fold raised; nothing of them was written."""


def timeline_entry(envelope: EventEnvelope, *, erased: bool) -> dict[str, Any]:
    """The timeline document of one event (its data dropped once the customer is erased)."""
    return {
        "_id": envelope.id,
        "customer_id": envelope.subject,
        "time": envelope.time.isoformat(),
        "type": envelope.type,
        "source": envelope.source,
        "aggregate_id": envelope.aggregateid,
        "aggregate_version": envelope.aggregateversion,
        "data": {} if erased else envelope.data,
        "erased": erased,
    }


class Customer360Projection:
    """Keeps one 360 document per customer and a timeline entry per event.

    Idempotent: an event whose aggregate version the document already holds is
    skipped, so redeliveries and replays change nothing. Writes go in bulk, timeline
    before documents, so a crash between the two is repaired by the redelivery.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.customers = db[CUSTOMER_360]
        self.timeline = db[TIMELINE]

    async def ensure_indexes(self) -> None:
        """Create the indexes reads rely on (idempotent)."""
        await self.timeline.create_index([("customer_id", ASCENDING), ("time", ASCENDING), ("_id", ASCENDING)])

    async def apply_batch(self, items: Sequence[Item]) -> BatchResult:
        """Apply events in order: one read, one bulk insert of timeline entries, one write per document."""
        if not items:
            return BatchResult()
        docs = await self._load({envelope.subject for envelope, _ in items if envelope.subject})
        result, entries, erasures, touched = BatchResult(), [], [], set()
        for index, (envelope, event) in enumerate(items):
            if not envelope.subject:  # about a product, campaign or account: not part of a 360
                result.skipped += 1
                continue
            doc = docs.setdefault(envelope.subject, customer360.new_document(envelope.subject))
            if customer360.is_applied(doc, envelope):
                result.skipped += 1
                continue
            try:
                folded = customer360.fold(copy.deepcopy(doc), envelope, event)
            except Exception as exc:  # noqa: BLE001 - one bad event must not sink its batch
                result.failed.append((index, exc))
                continue
            is_erasure = isinstance(event, CustomerErasedV1)
            entries.append(timeline_entry(envelope, erased=doc["erased"] or is_erasure))
            erasures += [envelope.subject] if is_erasure else []
            docs[envelope.subject] = folded
            touched.add(envelope.subject)
            result.applied.append(envelope)
        await self._write(entries, erasures, [docs[c] for c in sorted(touched)])
        return result

    async def _load(self, customer_ids: set[str]) -> dict[str, dict[str, Any]]:
        cursor = self.customers.find({"_id": {"$in": sorted(customer_ids)}})
        return {doc["_id"]: doc async for doc in cursor}

    async def _write(self, entries: list[dict[str, Any]], erasures: list[str], docs: list[dict[str, Any]]) -> None:
        await self._insert_timeline(entries)
        for customer_id in erasures:
            await self.timeline.update_many({"customer_id": customer_id}, {"$set": {"data": {}, "erased": True}})
        # One replace per document rather than bulk_write: FerretDB 1.x on SQLite hangs on
        # large bulk updates, and executes them one by one anyway.
        for doc in docs:
            await self.customers.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def _insert_timeline(self, entries: list[dict[str, Any]]) -> None:
        """Insert entries; one already there (a redelivery after a crash) is the same entry."""
        if not entries:
            return
        try:
            await self.timeline.insert_many(entries, ordered=False)
        except BulkWriteError as exc:
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise

    async def get(self, customer_id: str) -> dict[str, Any] | None:
        """The 360 document of `customer_id`, if any event about them was seen."""
        return await self.customers.find_one({"_id": customer_id})

    async def timeline_page(self, customer_id: str, *, limit: int, after: str | None) -> list[dict[str, Any]]:
        """Timeline entries of `customer_id` in time order, after the cursor `after` (time|id)."""
        query: dict[str, Any] = {"customer_id": customer_id}
        if after:
            time, _, event_id = after.partition("|")
            query["$or"] = [{"time": {"$gt": time}}, {"time": time, "_id": {"$gt": event_id}}]
        cursor = self.timeline.find(query).sort([("time", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [entry async for entry in cursor]
