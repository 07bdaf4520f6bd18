"""The customer 360 projection: its MongoDB collections and how an event lands in them."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from services.analytics import customer360
from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerErasedV1

CUSTOMER_360 = "customer_360"
TIMELINE = "customer_timeline"


class Customer360Projection:
    """Keeps one 360 document per customer and a timeline entry per event.

    Idempotent: an event whose aggregate version the document already holds is
    skipped, so redeliveries and replays change nothing. The timeline is written
    before the document so a crash between the two is repaired by the redelivery.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.customers = db[CUSTOMER_360]
        self.timeline = db[TIMELINE]

    async def ensure_indexes(self) -> None:
        """Create the indexes reads rely on (idempotent)."""
        await self.timeline.create_index([("customer_id", ASCENDING), ("time", ASCENDING), ("_id", ASCENDING)])

    async def apply(self, envelope: EventEnvelope, event: PublicEvent) -> bool:
        """Apply one event; False if it was already applied."""
        customer_id = envelope.subject
        doc = await self.customers.find_one({"_id": customer_id}) or customer360.new_document(customer_id)
        if customer360.is_applied(doc, envelope):
            return False
        await self._record_timeline(envelope, erased=doc["erased"] or isinstance(event, CustomerErasedV1))
        if isinstance(event, CustomerErasedV1):
            await self.timeline.update_many({"customer_id": customer_id}, {"$set": {"data": {}, "erased": True}})
        await self.customers.replace_one({"_id": customer_id}, customer360.fold(doc, envelope, event), upsert=True)
        return True

    async def _record_timeline(self, envelope: EventEnvelope, *, erased: bool) -> None:
        entry = {
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
        await self.timeline.replace_one({"_id": envelope.id}, entry, upsert=True)

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
