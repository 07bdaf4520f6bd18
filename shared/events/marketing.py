"""Public events of the marketing service on `crm.marketing.v1` (marketing automation).

This module starts with the events other services consume; the marketing service
adds the rest of its stream here. `UnsubscribedV1` is choreography: the customer
service, which owns consent, records the withdrawal it announces.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events import topics
from shared.events.base import CustomerKeyedEvent, PublicEvent

MessageChannel = Literal["email", "sms"]


class MarketingEvent(PublicEvent):
    """Base of the marketing stream's events that are not about one customer (campaigns, spend)."""

    topic = topics.MARKETING


class MarketingCustomerEvent(CustomerKeyedEvent):
    """Base of the marketing stream's events about one customer."""

    topic = topics.MARKETING


class UnsubscribedV1(MarketingCustomerEvent):
    """The customer unsubscribed from a channel; the customer service withdraws that consent."""

    event_type = "crm.marketing.unsubscribed.v1"

    channel: MessageChannel
    campaign_id: UUID | None = Field(default=None, description="The campaign whose message they unsubscribed from.")
    message_id: UUID | None = Field(default=None, description="The message whose link they used.")
    unsubscribed_at: AwareDatetime


class LinkClickedV1(MarketingCustomerEvent):
    """The customer followed a tracked link of a campaign message (an engagement signal)."""

    event_type = "crm.marketing.link_clicked.v1"

    campaign_id: UUID
    message_id: UUID
    url: str = Field(description="The link's destination.")
    clicked_at: AwareDatetime


EVENTS: tuple[type[PublicEvent], ...] = (UnsubscribedV1, LinkClickedV1)
