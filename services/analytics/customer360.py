"""The customer 360 document, folded from customer events by pure functions.

Folding is a pure function of (document, event): no clock, no randomness, no I/O, so
the same events always give the same document, whichever consumer replays them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.events import EventEnvelope, PublicEvent
from shared.events import customer as c

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
        "erased": False,
        "first_event_at": None,
        "last_event_at": None,
        "event_count": 0,
        "versions": {},
    }


def _union(existing: list[str], more: list[str]) -> list[str]:
    return existing + [v for v in more if v not in existing]


def _registered(doc: Document, e: c.CustomerRegisteredV1) -> None:
    doc.update(
        name=e.name,
        emails=list(e.emails),
        phones=list(e.phones),
        address=e.address,
        source=e.source,
        tags=sorted(e.tags),
        consent=dict(e.consent),
    )


def _profile(doc: Document, e: c.CustomerProfileUpdatedV1) -> None:
    for field in e.changed:
        value = getattr(e, field)
        doc[field] = sorted(value) if field == "tags" else value


def _contact_added(doc: Document, e: c.CustomerContactPointAddedV1) -> None:
    key = f"{e.kind}s"
    doc[key] = _union(doc[key], [e.value])


def _contact_removed(doc: Document, e: c.CustomerContactPointRemovedV1) -> None:
    key = f"{e.kind}s"
    doc[key] = [v for v in doc[key] if v != e.value]


def _interaction(doc: Document, e: c.CustomerInteractionRecordedV1) -> None:
    doc["interactions"].append(e.model_dump(mode="json", exclude={"customer_id"}))


def _consent(doc: Document, e: c.CustomerConsentChangedV1) -> None:
    doc["consent"][e.channel] = e.granted


def _merged(doc: Document, e: c.CustomerMergedV1) -> None:
    doc["merged_into"] = str(e.survivor_id)


def _absorbed(doc: Document, e: c.CustomerDuplicateAbsorbedV1) -> None:
    doc.update(
        emails=_union(doc["emails"], e.emails),
        phones=_union(doc["phones"], e.phones),
        tags=sorted(set(doc["tags"]) | set(e.tags)),
        merged_from=_union(doc["merged_from"], [str(e.merged_id)]),
    )


def _erased(doc: Document, e: c.CustomerErasedV1) -> None:
    erase_pii(doc)


def erase_pii(doc: Document) -> None:
    """Forget everything personal; keep only what analytics may count."""
    doc.update(name=None, emails=[], phones=[], address=None, interactions=[], tags=[], erased=True)


FOLDS: dict[type[PublicEvent], Callable[[Document, Any], None]] = {
    c.CustomerRegisteredV1: _registered,
    c.CustomerProfileUpdatedV1: _profile,
    c.CustomerContactPointAddedV1: _contact_added,
    c.CustomerContactPointRemovedV1: _contact_removed,
    c.CustomerInteractionRecordedV1: _interaction,
    c.CustomerConsentChangedV1: _consent,
    c.CustomerMergedV1: _merged,
    c.CustomerDuplicateAbsorbedV1: _absorbed,
    c.CustomerErasedV1: _erased,
}


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
