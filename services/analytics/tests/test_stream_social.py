"""Folding social events into the 360: counts by kind and sentiment, escalations, idempotence, erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.analytics import customer360
from shared.events import EventEnvelope, PublicEvent
from shared.events import customer as c
from shared.events import social as so

CID = UUID("5b3f0a4e-7a43-4d8e-9a1e-3f2b7c6d5e4f")
ACCOUNT = UUID("9d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f70")
I1 = UUID("11111111-1111-4111-8111-111111111111")
I2 = UUID("22222222-2222-4222-8222-222222222222")
T0 = datetime(2026, 3, 3, 9, tzinfo=UTC)


def envelope(event: PublicEvent, aggregate: UUID, version: int) -> tuple[EventEnvelope, PublicEvent]:
    wrapped = EventEnvelope.wrap(
        event,
        source="/crm/social",
        aggregate_id=aggregate,
        aggregate_version=version,
        time=T0 + timedelta(minutes=version),
    )
    return wrapped, event


def linked(interaction: UUID, kind: str, sentiment: str, minutes: int) -> so.InteractionLinkedToCustomerV1:
    return so.InteractionLinkedToCustomerV1(
        customer_id=CID,
        interaction_id=interaction,
        account_id=ACCOUNT,
        platform="weibo",
        kind=kind,
        author_handle="@wang_fang",
        text="客服太慢了" if sentiment == "negative" else "谢谢",
        sentiment=sentiment,
        occurred_at=T0 + timedelta(minutes=minutes),
        method="handle",
        linked_by="social-identity",
    )


ESCALATED = so.InteractionEscalatedV1(
    customer_id=CID,
    interaction_id=I1,
    account_id=ACCOUNT,
    platform="weibo",
    kind="mention",
    author_handle="@wang_fang",
    text="客服太慢了",
    sentiment="negative",
    priority="P2",
    reason="王芳 waits for order 123",
    escalated_by="li.na@example.com",
    escalated_at=T0 + timedelta(hours=1),
)

STREAM = [
    envelope(linked(I1, "mention", "negative", 5), I1, 2),
    envelope(linked(I2, "comment", "positive", 1), I2, 2),
    envelope(ESCALATED, I1, 5),
]


def project(stream: list[tuple[EventEnvelope, PublicEvent]]) -> customer360.Document:
    doc = customer360.new_document(str(CID))
    for wrapped, event in stream:
        if not customer360.is_applied(doc, wrapped):
            doc = customer360.fold(doc, wrapped, event)
    return doc


def test_counts_by_kind_and_sentiment_and_the_last_interaction() -> None:
    social = project(STREAM)["social"]
    assert social["interaction_count"] == 2
    assert social["by_kind"] == {"comment": 1, "mention": 1}
    assert social["by_sentiment"] == {"negative": 1, "positive": 1}
    assert social["last_interaction"]["interaction_id"] == str(I1)
    assert social["handles"] == ["@wang_fang"]
    assert social["escalation_count"] == 1
    assert social["escalations"][str(I1)]["priority"] == "P2"


def test_replay_is_idempotent_and_deterministic() -> None:
    once = json.dumps(project(STREAM), sort_keys=True)
    assert json.dumps(project(STREAM + STREAM), sort_keys=True) == once


def test_unlinking_removes_the_interaction_from_the_counts() -> None:
    unlinked = so.InteractionUnlinkedFromCustomerV1(customer_id=CID, interaction_id=I2)
    social = project([*STREAM, envelope(unlinked, I2, 3)])["social"]
    assert (social["interaction_count"], social["by_sentiment"]) == (1, {"negative": 1})


def test_erasure_removes_texts_handles_and_reasons_but_keeps_counts() -> None:
    erased = envelope(c.CustomerErasedV1(customer_id=CID), CID, 9)
    doc = project([*STREAM, erased])
    social = doc["social"]
    assert social["handles"] == []
    assert all(e["text"] == "" and e["author_handle"] == "" for e in social["interactions"].values())
    assert social["escalations"][str(I1)]["reason"] == ""
    assert social["interaction_count"] == 2
    late = project([*STREAM, erased, envelope(linked(UUID(int=3), "comment", "neutral", 9), UUID(int=3), 2)])
    assert all(e["text"] == "" for e in late["social"]["interactions"].values()), "PII after erasure is dropped"
