"""The relay's mapping: each domain event to its public event; segment and audience events stay private."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.marketing.application import MarketingApplication
from services.marketing.domain import Campaign
from services.marketing.relay import AGGREGATES, UnmappedEvent, mapping, to_public_for
from services.marketing.tests.conftest import NOW, join, web_customers
from shared.events import marketing as public
from shared.platform import outbox


def published(app: MarketingApplication) -> list[object]:
    to_public = to_public_for(app)
    notes = app.recorder.select_notifications(start=1, limit=1000)
    return [to_public(app.mapper.to_domain_event(n)) for n in notes]


def campaign_story(app: MarketingApplication) -> tuple[UUID, Any]:
    """A campaign from creation to completion, with a message opened, clicked and unsubscribed, and spend."""
    customer = join(app, "张伟", "z@example.cn")
    segment = app.define_segment(name="web", description="", rules=web_customers(), by="m")
    campaign = app.create_campaign(
        name="春季",
        channel="email",
        segment_id=segment.id,
        fallbacks={},
        by="m",
        variants=[{"name": "A", "weight": 1, "subject": "s", "html": "h"}],
    )
    app.schedule(campaign.id, expected_version=None, send_at=None)
    started = app.start_sending(campaign.id)
    message = app.prepare(started, customer, "A")
    app.mark_sent(message.id)
    app.record_open(message.id)
    app.record_click(message.id, "https://shop.example.com/")
    app.unsubscribe(message.id)
    app.record_spend(
        campaign.id,
        spend_id=uuid4(),
        channel="email",
        amount=Decimal("12.30"),
        currency="EUR",
        note=None,
        spent_on=None,
        by="m",
    )
    app.complete(campaign.id, sent=1, bounced=0, withheld=0)
    return customer, campaign


def test_every_public_marketing_event_is_mapped(app: MarketingApplication) -> None:
    customer, campaign = campaign_story(app)
    events = [e for e in published(app) if e is not None]
    assert [type(e) for e in events] == [
        public.CampaignCreatedV1,
        public.CampaignScheduledV1,
        public.CampaignSendingStartedV1,
        public.MessageSentV1,
        public.EmailOpenedV1,
        public.LinkClickedV1,
        public.UnsubscribedV1,
        public.CampaignSpendRecordedV1,
        public.CampaignCompletedV1,
    ]
    sent = events[3]
    assert isinstance(sent, public.MessageSentV1)
    assert (sent.customer_id, sent.campaign_id, sent.variant) == (customer, campaign.id, "A")
    spend = events[7]
    assert isinstance(spend, public.CampaignSpendRecordedV1)
    assert spend.amount == Decimal("12.30")
    assert events[2].audience_size == 1  # type: ignore[attr-defined]


def test_audience_and_segment_events_are_private(app: MarketingApplication) -> None:
    join(app, "Ada", "ada@example.com")
    app.define_segment(name="web", description="", rules=web_customers(), by="m")
    assert published(app) == [None, None]


def test_every_domain_event_is_published_or_private(app: MarketingApplication) -> None:
    """An unlisted event used to become private silently; now every one is decided, and an unknown one stops."""
    assert set(mapping(app)) == outbox.domain_event_classes(*AGGREGATES)

    class Invented(Campaign.Event):
        pass

    with pytest.raises(UnmappedEvent, match="neither published nor private"):
        to_public_for(app)(Invented(originator_id=uuid4(), originator_version=1, timestamp=NOW))
