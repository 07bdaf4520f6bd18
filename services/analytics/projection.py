"""The customer 360 projection: its MongoDB collections and how events land in them."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.analytics import customer360, watermarks
from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerErasedV1, CustomerMergedV1

CUSTOMER_360 = "customer_360"
TIMELINE = "customer_timeline"
BUSINESS_EVENTS = "business_events"
DUPLICATE_KEY = 11000
TIMELINE_INDEX = "timeline_index"
"""Field of each 360 document: `"<time>|<event id>"` of every timeline entry about that customer, sorted.

A customer's timeline is read through it, by `_id`: on our local read store (FerretDB on
SQLite, see the README's "Read store") only `_id` conditions use an index, so a query by
`customer_id` would read the whole timeline collection. Sorted by (time, id), it is the
same whatever order the streams' events arrived in, so replays stay byte-identical.
Strings, not `[time, id]` pairs: FerretDB v1 refuses nested arrays. Every time ends in
"+00:00", so no time is a prefix of another and the strings sort as the pairs would.
Its cost: the document grows by ~70 bytes an event and is rewritten whole by each batch
that touches it, so a customer with a very long history costs more to project.
"""
IN_CHUNK = 1_000
"""Ids per `_id: {$in: [...]}` query: our FerretDB patch pushes down lists up to this long."""

Item = tuple[EventEnvelope, PublicEvent]
Documents = MutableMapping[str, dict[str, Any]]
"""360 documents by customer id: a dict, or the rebuild's packed store of them."""


@dataclass
class BatchResult:
    """What a batch did: events applied, skipped as already applied, and those that failed."""

    applied: list[EventEnvelope] = field(default_factory=list)
    skipped: int = 0
    failed: list[tuple[int, Exception]] = field(default_factory=list)
    """(index in the batch, error) of events whose fold raised; nothing of them was written."""


@dataclass
class _Batch:
    """What one batch will write: timeline and business entries, erasures, changed documents."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    business: list[dict[str, Any]] = field(default_factory=list)
    erasures: list[str] = field(default_factory=list)
    """Erased customers whose 360 has no timeline index (built before it existed): wiped by `customer_id`."""
    erased_entries: list[str] = field(default_factory=list)
    """Timeline entries (event ids) whose data an erasure in this batch wipes."""
    touched: set[str] = field(default_factory=set)


def _apply(
    docs: Documents, doc: dict[str, Any], envelope: EventEnvelope, event: PublicEvent
) -> dict[str, dict[str, Any]]:
    """The documents one event changes (copies; `docs` is untouched, so a failing fold writes nothing)."""
    changed = {doc["_id"]: customer360.fold(customer360.copy_document(doc), envelope, event)}
    merged = changed[doc["_id"]]
    if isinstance(event, CustomerMergedV1):
        for target in _chain(docs, str(event.survivor_id), changed):
            survivor = customer360.copy_document(changed.get(target) or _doc(docs, target))
            changed[target] = customer360.absorb(survivor, merged)
    elif customer360.follows_merge(event) and merged.get("merged_into"):
        for target in _chain(docs, merged["merged_into"], changed):
            survivor = _doc(docs, target)
            if not customer360.is_applied(survivor, envelope):
                changed[target] = customer360.fold(customer360.copy_document(survivor), envelope, event)
    elif isinstance(event, CustomerErasedV1):
        for absorbed in customer360.absorbed_ids(merged):  # the same person's duplicates: their PII goes too
            duplicate = customer360.copy_document(changed.get(absorbed) or _doc(docs, absorbed))
            customer360.erase_pii(duplicate)
            changed[absorbed] = duplicate
    return changed


def _doc(docs: Documents, customer_id: str) -> dict[str, Any]:
    return docs.get(customer_id) or customer360.new_document(customer_id)


def _chain(docs: Documents, first: str, changed: dict[str, dict[str, Any]]) -> list[str]:
    """`first` and the survivors it was itself merged into, in order (a cycle is cut where it closes)."""
    chain: list[str] = []
    current: str | None = first
    while current and current not in chain and current not in changed:
        chain.append(current)
        current = _doc(docs, current).get("merged_into")
    return chain


def index_entry(doc: dict[str, Any], envelope: EventEnvelope) -> None:
    """List `envelope`'s timeline entry in `doc`'s timeline index, in (time, id) order, once."""
    entry = f"{envelope.time.isoformat()}|{envelope.id}"
    index: list[str] = doc.setdefault(TIMELINE_INDEX, [])
    at = bisect.bisect_left(index, entry)
    if at == len(index) or index[at] != entry:
        index.insert(at, entry)


def _erase_entries(batch: _Batch, docs: Documents, customer_ids: Iterable[str]) -> None:
    """Plan the wiping of every timeline entry of `customer_ids` (an erased customer and those it absorbed)."""
    for customer_id in customer_ids:
        doc = docs.get(customer_id)
        if doc is not None and TIMELINE_INDEX in doc:
            batch.erased_entries += [entry.partition("|")[2] for entry in doc[TIMELINE_INDEX]]
        else:
            batch.erasures.append(customer_id)


def _split(entry: str) -> tuple[str, str]:
    time, _, event_id = entry.partition("|")
    return time, event_id


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


def business_entry(envelope: EventEnvelope) -> dict[str, Any]:
    """The `business_events` document of an event with no customer subject (a campaign, product, post…)."""
    entry = timeline_entry(envelope, erased=False)
    del entry["customer_id"]
    return entry


def plan(docs: Documents, items: Sequence[Item]) -> tuple[BatchResult, _Batch]:
    """Fold `items` in order into `docs` (changed in place): what to write, and what was applied.

    Pure: no I/O, so the same function projects a batch from Kafka and refolds a
    customer's stored timeline for a point-in-time read.
    """
    result, batch = BatchResult(), _Batch()
    for index, (envelope, event) in enumerate(items):
        if not envelope.subject:
            batch.business.append(business_entry(envelope))
            result.applied.append(envelope)
            continue
        doc = docs.setdefault(envelope.subject, customer360.new_document(envelope.subject))
        if customer360.is_applied(doc, envelope):
            result.skipped += 1
            continue
        try:
            changed = _apply(docs, doc, envelope, event)
        except Exception as exc:  # noqa: BLE001 - one bad event must not sink its batch
            result.failed.append((index, exc))
            continue
        is_erasure = isinstance(event, CustomerErasedV1)
        batch.entries.append(timeline_entry(envelope, erased=doc["erased"] or is_erasure))
        index_entry(changed[envelope.subject], envelope)
        docs.update(changed)
        if is_erasure:
            _erase_entries(batch, docs, [envelope.subject, *customer360.absorbed_ids(doc)])
        batch.touched.update(changed)
        result.applied.append(envelope)
    return result, batch


class Customer360Projection:
    """Keeps one 360 document per customer, a timeline entry per customer event, and business events.

    Idempotent: an event whose aggregate version the document already holds is
    skipped, so redeliveries and replays change nothing. Writes go in bulk, timeline
    before documents, so a crash between the two is repaired by the redelivery.

    Merges: on `CustomerMerged` the survivor absorbs the merged customer's sections
    once (`customer360.absorb`); later events of the other streams about the merged
    customer are folded into its own document and into every survivor down the
    `merged_into` chain, each guarded by that document's own versions.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, bulk_chunk: int = 1_000) -> None:
        self.db = db
        self.customers = db[CUSTOMER_360]
        self.timeline = db[TIMELINE]
        self.business = db[BUSINESS_EVENTS]
        self.bulk_chunk = bulk_chunk

    async def ensure_indexes(self) -> None:
        """Create the indexes reads rely on (idempotent)."""
        await self.timeline.create_index([("customer_id", ASCENDING), ("time", ASCENDING), ("_id", ASCENDING)])
        await self.business.create_index([("type", ASCENDING), ("time", ASCENDING)])

    async def apply_batch(self, items: Sequence[Item]) -> BatchResult:
        """Apply events in order: reads up front, then bulk inserts and chunked bulk replaces."""
        if not items:
            return BatchResult()
        docs = await self._load_with_survivors(items)
        stored = set(docs)
        result, batch = plan(docs, items)
        touched = sorted(batch.touched)
        new = [docs[c] for c in touched if c not in stored]
        await self._write(batch, new, [docs[c] for c in touched if c in stored])
        return result

    async def _load_with_survivors(self, items: Sequence[Item]) -> dict[str, dict[str, Any]]:
        """The batch's customers, merge survivors down every `merged_into` chain, and duplicates of the erased."""
        wanted = {envelope.subject for envelope, _ in items if envelope.subject}
        wanted |= {str(event.survivor_id) for _, event in items if isinstance(event, CustomerMergedV1)}
        erased = {envelope.subject for envelope, event in items if isinstance(event, CustomerErasedV1)}
        docs: dict[str, dict[str, Any]] = {}
        asked: set[str] = set()
        while wanted:
            docs |= await self._load(wanted)
            asked |= wanted
            wanted = {d["merged_into"] for d in docs.values() if d.get("merged_into")}
            wanted |= {a for c in erased if c in docs for a in customer360.absorbed_ids(docs[c])}
            wanted -= asked
        return docs

    async def _load(self, customer_ids: set[str]) -> dict[str, dict[str, Any]]:
        cursor = self.customers.find({"_id": {"$in": sorted(customer_ids)}})
        return {doc["_id"]: doc async for doc in cursor}

    async def append(self, batch: _Batch) -> None:
        """Write a batch's timeline and business entries, and wipe the timeline data of its erasures."""
        await self._insert_timeline(batch.entries)
        await self._insert_ignoring_duplicates(self.business, batch.business)
        wipe = {"$set": {"data": {}, "erased": True}}
        for start in range(0, len(batch.erased_entries), IN_CHUNK):
            await self.timeline.update_many({"_id": {"$in": batch.erased_entries[start : start + IN_CHUNK]}}, wipe)
        for customer_id in batch.erasures:
            await self.timeline.update_many({"customer_id": customer_id}, wipe)

    async def _write(self, batch: _Batch, new: list[dict[str, Any]], stored: list[dict[str, Any]]) -> None:
        await self.append(batch)
        raced = await self._insert_new(new)
        await self._replace(stored + raced)
        await watermarks.advance(self.db, "projected")

    async def _insert_new(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert documents first seen in this batch (far cheaper than upserts on FerretDB); returns those found there.

        One already there was written by an earlier, interrupted attempt at this batch: it is replaced instead.
        """
        if not docs:
            return []
        try:
            await self.customers.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise
            return [docs[error["index"]] for error in errors]
        return []

    async def _replace(self, docs: list[dict[str, Any]]) -> None:
        """Replace stored documents in bulks of `bulk_chunk` (one bulk per batch with the defaults)."""
        for start in range(0, len(docs), self.bulk_chunk):
            chunk = docs[start : start + self.bulk_chunk]
            await self.customers.bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in chunk])

    async def _insert_timeline(self, entries: list[dict[str, Any]]) -> None:
        await self._insert_ignoring_duplicates(self.timeline, entries)

    @staticmethod
    async def _insert_ignoring_duplicates(
        collection: AsyncCollection[dict[str, Any]], entries: list[dict[str, Any]]
    ) -> None:
        """Insert entries; one already there (a redelivery after a crash) is the same entry."""
        if not entries:
            return
        try:
            await collection.insert_many(entries, ordered=False)
        except BulkWriteError as exc:
            if any(error.get("code") != DUPLICATE_KEY for error in exc.details.get("writeErrors", [])):
                raise

    async def get(self, customer_id: str) -> dict[str, Any] | None:
        """The 360 document of `customer_id`, if any event about them was seen."""
        return await self.customers.find_one({"_id": customer_id})

    async def timeline_page(self, customer_id: str, *, limit: int, after: str | None) -> list[dict[str, Any]]:
        """Timeline of `customer_id` and of customers merged into them, in time order, after `after` (time|id)."""
        if not after:
            return await self.timeline_of(customer_id, limit=limit)
        time, _, event_id = after.partition("|")
        return await self.timeline_of(customer_id, after=(time, event_id), limit=limit)

    async def timeline_of(
        self,
        customer_id: str,
        *,
        after: tuple[str, str] | None = None,
        until: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Entries of `customer_id` and the customers it absorbed, by (time, id): after `after`, up to `until`.

        Read by `_id` through the 360 documents' timeline indexes. A document written
        before the index existed has none; its customers' timelines are then queried by
        `customer_id` as before (a collection scan on FerretDB) until a rebuild adds it.
        """
        doc = await self.customers.find_one({"_id": customer_id}, {"absorbed": 1, TIMELINE_INDEX: 1})
        if doc is None:
            return []  # every event about a customer creates their 360 document
        absorbed = customer360.absorbed_ids(doc)
        docs = [doc]
        if absorbed:
            cursor = self.customers.find({"_id": {"$in": absorbed}}, {TIMELINE_INDEX: 1})
            docs += [d async for d in cursor]
        if any(TIMELINE_INDEX not in d for d in docs):
            return await self._timeline_by_customer([customer_id, *absorbed], after, until, limit)
        keys = sorted(_split(entry) for d in docs for entry in d[TIMELINE_INDEX])
        keys = [k for k in keys if (after is None or k > after) and (until is None or k[0] <= until)]
        ids = [event_id for _, event_id in keys[:limit]]
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), IN_CHUNK):
            found |= {e["_id"]: e async for e in self.timeline.find({"_id": {"$in": ids[start : start + IN_CHUNK]}})}
        return [found[i] for i in ids if i in found]

    async def _timeline_by_customer(
        self, ids: list[str], after: tuple[str, str] | None, until: str | None, limit: int | None
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"customer_id": ids[0] if len(ids) == 1 else {"$in": ids}}
        if after:
            time, event_id = after
            query["$or"] = [{"time": {"$gt": time}}, {"time": time, "_id": {"$gt": event_id}}]
        if until is not None:
            query["time"] = {"$lte": until}
        cursor = self.timeline.find(query).sort([("time", ASCENDING), ("_id", ASCENDING)])
        if limit is not None:
            cursor = cursor.limit(limit)
        return [entry async for entry in cursor]
