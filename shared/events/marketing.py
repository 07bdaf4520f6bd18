"""Public events of the marketing service on `crm.marketing.v1` (marketing automation).

This module starts with the events other services consume; the marketing service
adds the rest of its stream here. `UnsubscribedV1` is choreography: the customer
service, which owns consent, records the withdrawal it announces.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import CustomerKeyedEvent, PublicEvent
from shared.events.timestamps import IsoDateTime

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
    unsubscribed_at: IsoDateTime


class LinkClickedV1(MarketingCustomerEvent):
    """The customer followed a tracked link of a campaign message (an engagement signal)."""

    event_type = "crm.marketing.link_clicked.v1"

    campaign_id: UUID
    message_id: UUID
    url: str = Field(description="The link's destination.")
    clicked_at: IsoDateTime


class CampaignCreatedV1(MarketingEvent):
    """A marketer drafted a campaign: its name, channel and the segment it goes to."""

    event_type = "crm.marketing.campaign_created.v1"

    campaign_id: UUID
    name: str = Field(description="The campaign's name, any script.")
    channel: MessageChannel
    segment_id: UUID = Field(description="The segment evaluated at send time to pick the audience.")
    variants: list[str] = Field(description="Names of the A/B variants, e.g. ['A', 'B'].")


class CampaignScheduledV1(MarketingEvent):
    """The campaign was scheduled to start sending at `send_at`."""

    event_type = "crm.marketing.campaign_scheduled.v1"

    campaign_id: UUID
    send_at: IsoDateTime = Field(description="When the sender starts (UTC).")


class CampaignSendingStartedV1(MarketingEvent):
    """The sender took the audience snapshot and started sending."""

    event_type = "crm.marketing.campaign_sending_started.v1"

    campaign_id: UUID
    audience_size: int = Field(ge=0, description="Recipients in the snapshot, after consent and suppression.")
    excluded: dict[str, int] = Field(
        default_factory=dict, description="Segment members left out, by reason (no_consent, unsubscribed, ...)."
    )
    started_at: IsoDateTime


class CampaignCompletedV1(MarketingEvent):
    """Every recipient of the snapshot was handled (sent, bounced or withheld)."""

    event_type = "crm.marketing.campaign_completed.v1"

    campaign_id: UUID
    sent: int = Field(ge=0)
    bounced: int = Field(ge=0)
    withheld: int = Field(ge=0, description="Recipients skipped because they unsubscribed or were erased meanwhile.")
    completed_at: IsoDateTime


class CampaignCancelledV1(MarketingEvent):
    """The campaign was cancelled; nothing more is sent for it."""

    event_type = "crm.marketing.campaign_cancelled.v1"

    campaign_id: UUID
    cancelled_by: str = Field(description="Subject of the user who cancelled it.")
    cancelled_at: IsoDateTime


class CampaignSpendRecordedV1(MarketingEvent):
    """Money spent on a campaign in one channel (the input of CAC and ROI)."""

    event_type = "crm.marketing.campaign_spend_recorded.v1"

    campaign_id: UUID
    spend_id: UUID = Field(description="Idempotency key of this spend line.")
    channel: str = Field(description="Where the money went: email, sms, social, display, search, ...")
    amount: Decimal = Field(gt=0, description="Amount in `currency`, exact decimal (a string on the wire).")
    currency: str = Field(pattern="^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR, CNY.")
    note: str | None = Field(default=None, description="What it was for.")
    spent_on: IsoDateTime


class MessageSentV1(MarketingCustomerEvent):
    """A campaign message was handed to the mail server or SMS gateway for the customer."""

    event_type = "crm.marketing.message_sent.v1"

    campaign_id: UUID
    message_id: UUID = Field(description="Also the idempotency key and the email's Message-ID.")
    channel: MessageChannel
    variant: str = Field(description="The A/B variant the customer got.")
    sent_at: IsoDateTime
    confirmed: bool = Field(
        default=True,
        description="False when the sender restarted before the server's answer arrived: it counts as sent, "
        "because sending it again could reach the customer twice.",
    )


class MessageBouncedV1(MarketingCustomerEvent):
    """The server refused the message for the customer (permanent: do not try that address again)."""

    event_type = "crm.marketing.message_bounced.v1"

    campaign_id: UUID
    message_id: UUID
    channel: MessageChannel
    permanent: bool = Field(description="5xx (hard bounce) rather than retries exhausted on 4xx (soft).")
    code: int = Field(description="The SMTP reply code or HTTP status of the refusal.")
    bounced_at: IsoDateTime


class EmailOpenedV1(MarketingCustomerEvent):
    """The customer opened a campaign email (its tracking pixel loaded; first open only)."""

    event_type = "crm.marketing.email_opened.v1"

    campaign_id: UUID
    message_id: UUID
    opened_at: IsoDateTime


EVENTS: tuple[type[PublicEvent], ...] = (
    UnsubscribedV1,
    LinkClickedV1,
    CampaignCreatedV1,
    CampaignScheduledV1,
    CampaignSendingStartedV1,
    CampaignCompletedV1,
    CampaignCancelledV1,
    CampaignSpendRecordedV1,
    MessageSentV1,
    MessageBouncedV1,
    EmailOpenedV1,
)
