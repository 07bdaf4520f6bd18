"""Folding support events into the 360: counts, SLA breaches, CSAT/NPS, idempotence and erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.analytics import customer360
from shared.events import EventEnvelope, PublicEvent
from shared.events import customer as c
from shared.events import support as s

CID = UUID("5b3f0a4e-7a43-4d8e-9a1e-3f2b7c6d5e4f")
T1 = UUID("11111111-1111-4111-8111-111111111111")
T2 = UUID("22222222-2222-4222-8222-222222222222")
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def envelope(event: PublicEvent, aggregate: UUID, version: int) -> tuple[EventEnvelope, PublicEvent]:
    return (
        EventEnvelope.wrap(
            event,
            source="/crm/support",
            aggregate_id=aggregate,
            aggregate_version=version,
            time=T0 + timedelta(minutes=version),
        ),
        event,
    )


def opened(ticket: UUID, priority: str, at: datetime) -> s.TicketOpenedV1:
    return s.TicketOpenedV1(
        customer_id=CID,
        ticket_id=ticket,
        channel="email",
        subject="订单没有到",
        description="还没收到",
        category="delivery",
        priority=priority,
        first_response_minutes=60,
        resolution_minutes=240,
        opened_by="agent@example.com",
        opened_at=at,
    )


STREAM = [
    envelope(opened(T1, "P1", T0), T1, 1),
    envelope(
        s.SlaWarnedV1(
            customer_id=CID,
            ticket_id=T1,
            target="first_response",
            target_minutes=60,
            elapsed_seconds=2700,
            warned_at=T0,
        ),
        T1,
        2,
    ),
    envelope(
        s.SlaBreachedV1(
            customer_id=CID,
            ticket_id=T1,
            target="first_response",
            target_minutes=60,
            elapsed_seconds=3600,
            breached_at=T0,
        ),
        T1,
        3,
    ),
    envelope(
        s.TicketStatusChangedV1(
            customer_id=CID, ticket_id=T1, from_status="open", to_status="resolved", changed_by="a", changed_at=T0
        ),
        T1,
        4,
    ),
    envelope(s.SurveyAnsweredV1(customer_id=CID, ticket_id=T1, csat=4, nps=9, comment="谢谢", answered_at=T0), T1, 5),
    envelope(opened(T2, "P3", T0 + timedelta(hours=1)), T2, 1),
]


def project(stream: list[tuple[EventEnvelope, PublicEvent]]) -> customer360.Document:
    doc = customer360.new_document(str(CID))
    for env, event in stream:
        if not customer360.is_applied(doc, env):
            doc = customer360.fold(doc, env, event)
    return doc


def test_tickets_breaches_and_csat_are_summarised_per_customer() -> None:
    support = project(STREAM)["support"]
    assert (support["open_tickets"], support["closed_tickets"]) == (1, 1)
    assert support["by_priority"] == {"P1": 1, "P3": 1}
    assert support["last_ticket"]["ticket_id"] == str(T2)
    assert (support["sla_breaches"], support["sla_warnings"]) == (1, 1)
    assert support["csat_scores"] == [4]
    assert support["csat_average"] == 4.0
    assert support["nps_answers"] == [9]
    assert support["tickets"][str(T1)]["breached"] == ["first_response"]


def test_redelivered_events_change_nothing_and_documents_are_byte_identical() -> None:
    assert json.dumps(project(STREAM + STREAM)) == json.dumps(project(STREAM))


def test_erasure_removes_subjects_comments_and_feedback_text() -> None:
    feedback = s.FeedbackRecordedV1(
        customer_id=CID, feedback_id=T2, kind="praise", text="很好", recorded_by="a", recorded_at=T0
    )
    stream = [
        *STREAM,
        envelope(feedback, UUID(int=7), 1),
        (
            EventEnvelope.wrap(
                c.CustomerErasedV1(customer_id=CID),
                source="/crm/customer",
                aggregate_id=CID,
                aggregate_version=9,
                time=T0,
            ),
            c.CustomerErasedV1(customer_id=CID),
        ),
    ]
    doc = project(stream)
    support = doc["support"]
    assert all(t["subject"] is None and "survey_comment" not in t for t in support["tickets"].values())
    assert support["feedback"][0]["text"] is None
    assert support["csat_scores"] == [4], "scores are not personal: analytics keeps them"
