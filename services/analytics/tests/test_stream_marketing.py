"""Marketing touches in the 360: counts and campaign ids, idempotent, kept after erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from services.analytics import customer360
from shared.events import EventEnvelope, PublicEvent
from shared.events import customer as c
from shared.events import marketing as m

CID = UUID("5b3f0a4e-7a43-4d8e-9a1e-3f2b7c6d5e4f")
CAMPAIGN = uuid4()
MESSAGE = uuid4()
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def project(*events: PublicEvent) -> customer360.Document:
    doc = customer360.new_document(str(CID))
    for version, event in enumerate(events, start=1):
        envelope = EventEnvelope.wrap(
            event,
            source="/crm/marketing",
            aggregate_id=MESSAGE,
            aggregate_version=version,
            time=T0 + timedelta(minutes=version),
        )
        for _ in range(2):  # redelivered: applied once
            if not customer360.is_applied(doc, envelope):
                doc = customer360.fold(doc, envelope, event)
    return doc


TOUCHES = (
    m.MessageSentV1(
        customer_id=CID, campaign_id=CAMPAIGN, message_id=MESSAGE, channel="email", variant="A", sent_at=T0
    ),
    m.EmailOpenedV1(customer_id=CID, campaign_id=CAMPAIGN, message_id=MESSAGE, opened_at=T0),
    m.LinkClickedV1(
        customer_id=CID,
        campaign_id=CAMPAIGN,
        message_id=MESSAGE,
        url="https://x.example/",
        clicked_at=T0 + timedelta(hours=1),
    ),
    m.UnsubscribedV1(
        customer_id=CID,
        channel="email",
        campaign_id=CAMPAIGN,
        message_id=MESSAGE,
        unsubscribed_at=T0 + timedelta(hours=2),
    ),
)


def test_campaign_touches_are_counted_once_per_event() -> None:
    section = project(*TOUCHES)["marketing"]
    assert section["counts"] == {"sent": 1, "bounced": 0, "opened": 1, "clicked": 1, "unsubscribed": 1}
    assert section["campaigns"]["clicked"] == [str(CAMPAIGN)]
    assert section["unsubscribed_channels"] == ["email"]
    assert section["last_touch_at"] == (T0 + timedelta(hours=2)).isoformat()


def test_a_bounce_is_a_touch_of_its_own() -> None:
    bounced = m.MessageBouncedV1(
        customer_id=CID,
        campaign_id=CAMPAIGN,
        message_id=MESSAGE,
        channel="email",
        permanent=True,
        code=550,
        bounced_at=T0,
    )
    assert project(bounced)["marketing"]["counts"]["bounced"] == 1


def test_replays_are_identical_and_erasure_keeps_the_counts() -> None:
    assert project(*TOUCHES) == project(*TOUCHES)
    doc = project(*TOUCHES, c.CustomerErasedV1(customer_id=CID))
    assert doc["erased"]
    assert doc["marketing"]["counts"]["sent"] == 1
