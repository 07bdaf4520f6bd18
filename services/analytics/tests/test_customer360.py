"""Folding customer events into a 360 document: deterministic, idempotent, erasure-safe."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from services.analytics import customer360
from shared.events import REGISTRY, EventEnvelope, PublicEvent
from shared.events import customer as c

CID = UUID("5b3f0a4e-7a43-4d8e-9a1e-3f2b7c6d5e4f")
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def envelopes(*events: PublicEvent) -> list[tuple[EventEnvelope, PublicEvent]]:
    """Each event enveloped, paired with what the projector parses from it (older versions upcast)."""
    wrapped = [
        EventEnvelope.wrap(
            e, source="/crm/customer", aggregate_id=CID, aggregate_version=v, time=T0 + timedelta(minutes=v)
        )
        for v, e in enumerate(events, start=1)
    ]
    return [(envelope, REGISTRY.parse(envelope)) for envelope in wrapped]


def project(stream: list[tuple[EventEnvelope, PublicEvent]]) -> customer360.Document:
    doc = customer360.new_document(str(CID))
    for envelope, event in stream:
        if not customer360.is_applied(doc, envelope):
            doc = customer360.fold(doc, envelope, event)
    return doc


LIFE = envelopes(
    c.CustomerRegisteredV1(
        customer_id=CID, name="李娜", emails=["li.na@example.cn"], phones=[], source="web", consent={"email": True}
    ),
    c.CustomerContactPointAddedV1(customer_id=CID, kind="phone", value="+8613900000000"),
    c.CustomerInteractionRecordedV1(
        customer_id=CID, interaction_id=uuid4(), kind="note", summary="喜欢网球", occurred_at=T0, recorded_by="rep"
    ),
    c.CustomerProfileUpdatedV1(customer_id=CID, changed=["tags"], tags=["vip", "tennis"]),
)


def test_a_registered_customer_has_profile_and_contact_points() -> None:
    doc = project(LIFE)
    assert doc["name"] == "李娜"
    assert doc["phones"] == ["+8613900000000"]
    assert doc["tags"] == ["tennis", "vip"]
    assert doc["event_count"] == 4
    assert doc["versions"] == {str(CID): 4}


def test_applying_every_event_twice_changes_nothing() -> None:
    assert project(LIFE + LIFE) == project(LIFE)
    assert project([e for pair in zip(LIFE, LIFE, strict=True) for e in pair]) == project(LIFE)


def test_the_same_events_give_byte_identical_documents() -> None:
    assert json.dumps(project(LIFE)) == json.dumps(project(list(LIFE)))


def test_erasure_removes_pii_even_if_old_events_are_redelivered_later() -> None:
    erased = LIFE + envelopes(*(e for _, e in LIFE), c.CustomerErasedV1(customer_id=CID))[-1:]
    doc = project(erased + LIFE)
    assert doc["erased"] is True
    assert (doc["name"], doc["emails"], doc["phones"], doc["interactions"]) == (None, [], [], [])


def test_a_merge_points_the_duplicate_to_the_survivor() -> None:
    survivor = uuid4()
    doc = project(
        LIFE + envelopes(*(e for _, e in LIFE), c.CustomerMergedV1(customer_id=CID, survivor_id=survivor))[-1:]
    )
    assert doc["merged_into"] == str(survivor)


def test_a_document_copy_shares_no_dict_or_list_with_the_original() -> None:
    original = {"a": {"b": [1, {"c": "d"}]}, "when": datetime(2026, 1, 1, tzinfo=UTC), "n": None}
    copied = customer360.copy_document(original)
    copied["a"]["b"][1]["c"] = "changed"
    copied["a"]["b"].append(2)
    assert copied == {"a": {"b": [1, {"c": "changed"}, 2]}, "when": original["when"], "n": None}
    assert original == {"a": {"b": [1, {"c": "d"}]}, "when": datetime(2026, 1, 1, tzinfo=UTC), "n": None}
