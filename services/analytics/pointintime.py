"""Point-in-time reads: a customer's 360 as it stood at a past moment, refolded from the timeline.

The timeline keeps every event about a customer with its data, so the 360 at time T
is the same pure fold (`projection.plan`) over that customer's entries up to T, and
those of the customers merged into them, in time order. Nothing is stored: the answer
is computed per request and costs one indexed timeline read.

Erasure wins over history: once a customer is erased their entries hold no data,
so the past 360 of an erased customer is an erased document with only the counts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.analytics import customer360
from services.analytics.projection import Customer360Projection, Item, plan
from shared.events import REGISTRY, EventEnvelope
from shared.events.envelope import schema_uri


def _item(customer_id: str, entry: dict[str, Any]) -> Item:
    envelope = EventEnvelope(
        id=entry["_id"],
        source=entry["source"],
        type=entry["type"],
        time=datetime.fromisoformat(entry["time"]),
        subject=customer_id,
        dataschema=schema_uri(entry["type"]),
        aggregateid=entry["aggregate_id"],
        aggregateversion=entry["aggregate_version"],
        data=entry["data"],
    )
    return envelope, REGISTRY.parse(envelope)


async def customer_as_of(projection: Customer360Projection, customer_id: str, as_of: datetime) -> dict[str, Any] | None:
    """The 360 of `customer_id` from the events up to `as_of` (inclusive); None if there were none."""
    entries = await projection.timeline_of(customer_id, until=as_of.astimezone(UTC).isoformat())
    own = [e for e in entries if e["customer_id"] == customer_id]
    if not own:
        return None
    if any(e["erased"] for e in own):
        return _erased(customer_id, own)
    docs: dict[str, dict[str, Any]] = {}
    plan(docs, [_item(e["customer_id"], e) for e in entries if not e["erased"]])
    return docs.get(customer_id)


def _erased(customer_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    doc = customer360.new_document(customer_id)
    customer360.erase_pii(doc)
    times = [e["time"] for e in entries]
    doc.update(first_event_at=min(times), last_event_at=max(times), event_count=len(entries))
    return doc
