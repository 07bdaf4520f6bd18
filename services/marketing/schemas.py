"""Request and response bodies of the marketing API, split by role (create, update, public)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.marketing.domain import Campaign, Segment
from services.marketing.rules import SegmentRules
from shared.events.timestamps import IsoDateTime

Channel = Literal["email", "sms"]

RULES_EXAMPLE = {
    "match": "all",
    "conditions": [
        {"attribute": "country", "values": ["CN"]},
        {"attribute": "tags", "op": "any", "values": ["vip"]},
        {"attribute": "consent", "channel": "email", "granted": True},
    ],
}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Versioned(_Body):
    """Optimistic concurrency: the version the caller decided on (409 if it moved on)."""

    expected_version: int | None = Field(default=None, ge=1, description="Omit to skip the check.")


class SegmentCreate(_Body):
    """A named audience rule."""

    name: str = Field(min_length=1, max_length=200, examples=["CN VIPs who accept email"])
    description: str = Field(default="", max_length=2000)
    rules: SegmentRules = Field(examples=[RULES_EXAMPLE])


class SegmentUpdate(Versioned, SegmentCreate):
    """The segment's new name, description and rules."""


class SegmentPublic(BaseModel):
    """A segment as the API shows it."""

    id: UUID
    version: int
    name: str
    description: str
    rules: dict[str, Any]
    defined_by: str

    @classmethod
    def of(cls, segment: Segment) -> SegmentPublic:
        """The public view of the aggregate."""
        return cls(
            id=segment.id,
            version=segment.version,
            name=segment.name,
            description=segment.description,
            rules=segment.rules,
            defined_by=segment.defined_by,
        )


class SegmentListItem(BaseModel):
    """A segment in a list."""

    id: UUID
    name: str


class AudienceSample(BaseModel):
    """One member of a preview (PII masked for analysts)."""

    customer_id: UUID
    name: str | None
    email: str | None
    country: str | None
    tags: list[str]


class SegmentPreview(BaseModel):
    """How many customers the segment selects now, how many each channel may reach, and a sample."""

    count: int
    reachable: dict[str, int] = Field(description="Members a campaign on the channel would go to.")
    excluded: dict[str, dict[str, int]] = Field(description="Per channel: members left out, by reason.")
    sample: list[AudienceSample]


class Variant(_Body):
    """One A/B variant: its share of the audience and its templates (Jinja2, see README)."""

    name: str = Field(min_length=1, max_length=20, examples=["A"])
    weight: int = Field(default=1, ge=1, le=100, description="Relative share of the audience.")
    subject: str | None = Field(default=None, max_length=300, examples=["{{ customer.name }}，春季新品到了"])
    html: str | None = Field(
        default=None,
        max_length=200_000,
        examples=['<p>您好 {{ customer.name }}</p><a href="https://shop.example.com/">Shop</a>'],
    )
    text: str | None = Field(default=None, max_length=10_000, description="Plain text (required for SMS).")


class CampaignCreate(_Body):
    """A draft campaign to a segment."""

    name: str = Field(min_length=1, max_length=200, examples=["春季促销"])
    channel: Channel
    segment_id: UUID
    variants: list[Variant] = Field(min_length=1, max_length=10)
    fallbacks: dict[str, str] = Field(
        default_factory=dict, examples=[{"name": "朋友"}], description="Text for customer fields a customer lacks."
    )


class CampaignUpdate(Versioned):
    """Fields of a draft to change; omitted fields keep their value."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    segment_id: UUID | None = None
    variants: list[Variant] | None = Field(default=None, min_length=1, max_length=10)
    fallbacks: dict[str, str] | None = None


class ScheduleRequest(Versioned):
    """When to start sending (now when omitted)."""

    send_at: IsoDateTime | None = None


class CancelRequest(Versioned):
    """Cancel the campaign."""


class SpendCreate(_Body):
    """Money spent on the campaign in one channel."""

    spend_id: UUID | None = Field(
        default=None,
        description="Idempotency key, a UUID the client makes (e.g. uuid4) and reuses on a retry: the same id again "
        "records nothing. Omitted: a new one is made, so a retried request records the spend twice.",
    )
    channel: Literal["email", "sms", "social", "display", "search", "events", "other"]
    amount: Decimal = Field(gt=0, max_digits=18, decimal_places=4, examples=["1250.50"])
    currency: str = Field(pattern="^[A-Z]{3}$", examples=["CNY"], description="ISO 4217.")
    note: str | None = Field(default=None, max_length=500)
    spent_on: IsoDateTime | None = None


class SpendLine(BaseModel):
    """A recorded spend line."""

    spend_id: UUID
    channel: str
    amount: Decimal
    currency: str
    note: str | None
    spent_on: datetime
    recorded_by: str


class CampaignPublic(BaseModel):
    """A campaign as the API shows it."""

    id: UUID
    version: int
    name: str
    channel: str
    segment_id: UUID
    status: str
    send_at: datetime | None
    variants: list[dict[str, Any]]
    fallbacks: dict[str, str]
    audience_size: int
    excluded: dict[str, int]
    outcome: dict[str, int]
    spend: list[SpendLine]

    @classmethod
    def of(cls, c: Campaign) -> CampaignPublic:
        """The public view of the aggregate."""
        return cls(
            id=c.id,
            version=c.version,
            name=c.name,
            channel=c.channel,
            segment_id=c.segment_id,
            status=c.status,
            send_at=c.send_at,
            variants=c.variants,
            fallbacks=c.fallbacks,
            audience_size=len(c.recipients),
            excluded=c.excluded,
            outcome=c.outcome,
            spend=[SpendLine(**line) for line in c.spend],
        )


class CampaignListItem(BaseModel):
    """A campaign in a list."""

    id: UUID
    version: int
    name: str
    channel: str
    status: str
    send_at: datetime | None


class CampaignReport(BaseModel):
    """What happened to a campaign's messages, per variant, and what it cost."""

    campaign_id: UUID
    status: str
    audience_size: int
    variants: dict[str, dict[str, int]] = Field(
        description="Per variant: sent, bounced, opened, clicked (unique), clicks (total), unsubscribed."
    )
    spend: dict[str, Decimal] = Field(description="Total spend per currency.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such segment or campaign"},
    409: {"description": "Stale `expected_version`, or the campaign's status forbids it"},
    503: {"description": "Metric conditions need the analytics query API"},
}
