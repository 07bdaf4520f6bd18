"""The customer 360 document, folded from every stream's events by pure functions.

Folding is a pure function of (document, event): no clock, no randomness, no I/O, so
the same events always give the same document, whichever consumer replays them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.analytics.streams import customer, marketing, sales, social, support
from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerEvent

Document = dict[str, Any]


def new_document(customer_id: str) -> Document:
    """An empty 360 for a customer not seen before."""
    return {
        "_id": customer_id,
        "customer_id": customer_id,
        "name": None,
        "emails": [],
        "phones": [],
        "address": None,
        "source": None,
        "tags": [],
        "consent": {},
        "interactions": [],
        "merged_into": None,
        "merged_from": [],
        "absorbed": [],
        "erased": False,
        "first_event_at": None,
        "last_event_at": None,
        "event_count": 0,
        "versions": {},
    }


def copy_document(value: Any) -> Any:
    """A structural copy of a document: new dicts and lists, the same immutable leaves.

    A fold works on a copy so that a failing one leaves the document as it was. The
    documents hold only dicts, lists and immutable values (strings, numbers, booleans,
    None, datetimes from the store), so this is a complete copy at a quarter of
    `copy.deepcopy`'s cost (no memo of visited objects), which was 80% of a batch's
    planning time.
    """
    if type(value) is dict:
        return {key: copy_document(item) for key, item in value.items()}
    if type(value) is list:
        return [copy_document(item) for item in value]
    return value


STREAMS = (customer, sales, marketing, support, social)

FOLDS: dict[type[PublicEvent], Callable[[Document, Any], None]] = {
    model: fold for stream in STREAMS for model, fold in stream.FOLDS.items()
}


def erase_pii(doc: Document) -> None:
    """Forget everything personal every stream put in; keep only what analytics may count."""
    for stream in STREAMS:
        stream.erase(doc)
    doc["erased"] = True


def is_applied(doc: Document, envelope: EventEnvelope) -> bool:
    """True if `envelope` (or a later event of its aggregate) is already in `doc`."""
    return int(doc["versions"].get(envelope.aggregateid, 0)) >= envelope.aggregateversion


def fold(doc: Document, envelope: EventEnvelope, event: PublicEvent) -> Document:
    """`doc` with `event` applied; PII arriving after an erasure is dropped."""
    fold_event = FOLDS.get(type(event))
    if fold_event is not None:
        fold_event(doc, event)
    if doc["erased"]:
        erase_pii(doc)
    when = envelope.time.isoformat()
    doc["first_event_at"] = doc["first_event_at"] or when
    doc["last_event_at"] = max(doc["last_event_at"] or when, when)
    doc["event_count"] += 1
    doc["versions"][envelope.aggregateid] = envelope.aggregateversion
    return doc


def follows_merge(event: PublicEvent) -> bool:
    """True if `event`, about a merged customer, also belongs in the survivor's 360.

    Events of the other streams (orders, tickets, touches, interactions) follow the
    merge; the merged customer's own profile events (and its erasure) stay its own.
    """
    return not isinstance(event, CustomerEvent)


def absorbed_ids(doc: Document) -> list[str]:
    """Customers whose sections `doc` already holds (directly or through earlier merges)."""
    found: list[str] = doc.get("absorbed", [])
    return found


def absorb(survivor: Document, merged: Document) -> Document:
    """`survivor` with the merged customer's sections folded in, exactly once.

    Counts and money add up, keyed entries (orders' deals, tickets, interactions) join by
    id, and the aggregate versions seen are united so a redelivered event of the merged
    customer is recognised as already applied in the survivor too.
    """
    if merged["_id"] == survivor["_id"] or merged["_id"] in absorbed_ids(survivor):
        return survivor
    for stream in STREAMS:
        stream.absorb(survivor, merged)
    for key, value in sorted(merged["versions"].items()):
        survivor["versions"][key] = max(int(survivor["versions"].get(key, 0)), int(value))
    for key, pick in (("first_event_at", min), ("last_event_at", max)):
        values = [v for v in (survivor[key], merged[key]) if v is not None]
        survivor[key] = pick(values) if values else None
    survivor["event_count"] += merged["event_count"]
    newly = [merged["_id"], *absorbed_ids(merged)]
    survivor["absorbed"] = absorbed_ids(survivor) + [c for c in newly if c not in absorbed_ids(survivor)]
    if survivor["erased"]:
        erase_pii(survivor)
    return survivor
