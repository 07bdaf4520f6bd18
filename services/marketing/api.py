"""HTTP routes for marketers and analysts: segments and campaigns.

Routes are plain `def`: the `eventsourcing` library is synchronous, so FastAPI runs
them in its thread pool. Domain errors are mapped to HTTP once, in `errors.py`.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, status

from services.marketing.application import MarketingApplication
from services.marketing.rules import Member
from services.marketing.schemas import (
    ERROR_RESPONSES,
    AudienceSample,
    CampaignCreate,
    CampaignListItem,
    CampaignPublic,
    CampaignReport,
    CampaignUpdate,
    CancelRequest,
    ScheduleRequest,
    SegmentCreate,
    SegmentListItem,
    SegmentPreview,
    SegmentPublic,
    SegmentUpdate,
    SpendCreate,
)
from shared.platform.auth import Principal, require_roles
from shared.platform.masking import mask_email, mask_name
from shared.platform.paging import PageDep

segments = APIRouter(prefix="/segments", tags=["segments"], responses=ERROR_RESPONSES)
campaigns = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=ERROR_RESPONSES)


def get_marketing(request: Request) -> MarketingApplication:
    """The application the app was wired with."""
    app: MarketingApplication = request.app.state.marketing
    return app


MarketingDep = Annotated[MarketingApplication, Depends(get_marketing)]
Marketer = Annotated[Principal, require_roles("marketer", "admin")]
Reader = Annotated[Principal, require_roles("marketer", "analyst", "admin")]


@segments.post("", status_code=status.HTTP_201_CREATED, summary="Define a segment")
def define_segment(body: SegmentCreate, marketing: MarketingDep, user: Marketer) -> SegmentPublic:
    """Define a named audience rule over customer attributes (and analytics metrics)."""
    segment = marketing.define_segment(name=body.name, description=body.description, rules=body.rules, by=user.subject)
    return SegmentPublic.of(segment)


@segments.get("", summary="List segments")
def list_segments(marketing: MarketingDep, user: Reader, page: PageDep) -> list[SegmentListItem]:
    """Every segment, oldest first, a page at a time."""
    rows = list(enumerate(marketing.view.segment_names().items()))  # creation order; segments are never removed
    return [SegmentListItem(id=i, name=n) for _, (i, n) in page.of(rows, key=lambda r: (r[0], str(r[1][0])))]


@segments.get("/{segment_id}", summary="Read a segment")
def read_segment(segment_id: UUID, marketing: MarketingDep, user: Reader) -> SegmentPublic:
    """A segment's rules and version."""
    return SegmentPublic.of(marketing.segment(segment_id))


@segments.put("/{segment_id}", summary="Redefine a segment")
def redefine_segment(segment_id: UUID, body: SegmentUpdate, marketing: MarketingDep, user: Marketer) -> SegmentPublic:
    """Replace the name, description and rules (campaigns evaluate them when they start sending)."""
    segment = marketing.redefine_segment(
        segment_id,
        expected_version=body.expected_version,
        name=body.name,
        description=body.description,
        rules=body.rules,
    )
    return SegmentPublic.of(segment)


@segments.get("/{segment_id}/preview", summary="Preview a segment")
def preview_segment(
    segment_id: UUID,
    marketing: MarketingDep,
    user: Reader,
    sample: Annotated[int, Query(ge=0, le=100, description="How many members to show.")] = 10,
) -> SegmentPreview:
    """How many customers the segment selects now, how many each channel may reach, and a sample."""
    members = marketing.segment_members(segment_id)
    reach = {ch: marketing.view.eligible(members, ch) for ch in ("email", "sms")}
    masked = not user.has_any("marketer", "admin")
    return SegmentPreview(
        count=len(members),
        reachable={ch: len(e.members) for ch, e in reach.items()},
        excluded={ch: dict(e.excluded) for ch, e in reach.items()},
        sample=[_sample(m, masked) for m in members[:sample]],
    )


def _sample(member: Member, masked: bool) -> AudienceSample:
    email = member.emails[0] if member.emails else None
    return AudienceSample(
        customer_id=member.id,
        name=mask_name(member.name) if masked else member.name,
        email=mask_email(email) if masked and email else email,
        country=member.country,
        tags=list(member.tags),
    )


@campaigns.post("", status_code=status.HTTP_201_CREATED, summary="Draft a campaign")
def create_campaign(body: CampaignCreate, marketing: MarketingDep, user: Marketer) -> CampaignPublic:
    """A draft email or SMS campaign to a segment, with A/B variants and personalised templates."""
    campaign = marketing.create_campaign(
        name=body.name,
        channel=body.channel,
        segment_id=body.segment_id,
        variants=[v.model_dump() for v in body.variants],
        fallbacks=body.fallbacks,
        by=user.subject,
    )
    return CampaignPublic.of(campaign)


@campaigns.get("", summary="List campaigns")
def list_campaigns(marketing: MarketingDep, user: Reader, page: PageDep) -> list[CampaignListItem]:
    """Every campaign with its status, oldest first, a page at a time."""
    rows = list(enumerate(marketing.view.campaign_rows()))  # creation order; campaigns are never removed
    return [
        CampaignListItem(id=r.id, version=r.version, name=r.name, channel=r.channel, status=r.status, send_at=r.send_at)
        for _, r in page.of(rows, key=lambda row: (row[0], str(row[1].id)))
    ]


@campaigns.get("/{campaign_id}", summary="Read a campaign")
def read_campaign(campaign_id: UUID, marketing: MarketingDep, user: Reader) -> CampaignPublic:
    """A campaign's settings, status, audience snapshot size, outcome and spend."""
    return CampaignPublic.of(marketing.campaign(campaign_id))


@campaigns.patch("/{campaign_id}", summary="Edit a draft campaign")
def edit_campaign(campaign_id: UUID, body: CampaignUpdate, marketing: MarketingDep, user: Marketer) -> CampaignPublic:
    """Change a draft's name, segment, variants or fallbacks."""
    changes = body.model_dump(exclude={"expected_version"}, exclude_unset=True)
    campaign = marketing.edit_campaign(campaign_id, expected_version=body.expected_version, changes=changes)
    return CampaignPublic.of(campaign)


@campaigns.post("/{campaign_id}/schedule", summary="Schedule a campaign")
def schedule_campaign(
    campaign_id: UUID, body: ScheduleRequest, marketing: MarketingDep, user: Marketer
) -> CampaignPublic:
    """Plan when the sender starts (now when `send_at` is omitted); the segment is evaluated then."""
    campaign = marketing.schedule(campaign_id, expected_version=body.expected_version, send_at=body.send_at)
    return CampaignPublic.of(campaign)


@campaigns.post("/{campaign_id}/cancel", summary="Cancel a campaign")
def cancel_campaign(campaign_id: UUID, body: CancelRequest, marketing: MarketingDep, user: Marketer) -> CampaignPublic:
    """Stop a draft, scheduled or sending campaign; nothing more is sent."""
    campaign = marketing.cancel(campaign_id, expected_version=body.expected_version, by=user.subject)
    return CampaignPublic.of(campaign)


@campaigns.post("/{campaign_id}/spend", status_code=status.HTTP_201_CREATED, summary="Record spend")
def record_spend(campaign_id: UUID, body: SpendCreate, marketing: MarketingDep, user: Marketer) -> CampaignPublic:
    """Record money spent on the campaign in one channel (exact decimal, ISO 4217 currency)."""
    campaign = marketing.record_spend(
        campaign_id,
        spend_id=body.spend_id or uuid4(),
        channel=body.channel,
        amount=body.amount,
        currency=body.currency,
        note=body.note,
        spent_on=body.spent_on,
        by=user.subject,
    )
    return CampaignPublic.of(campaign)


@campaigns.get("/{campaign_id}/report", summary="Campaign report")
def campaign_report(campaign_id: UUID, marketing: MarketingDep, user: Reader) -> CampaignReport:
    """Sent, bounced, opened, clicked and unsubscribed per variant, and spend per currency."""
    campaign = marketing.campaign(campaign_id)
    spend: Counter[str] = Counter()
    for line in campaign.spend:
        spend[line["currency"]] += line["amount"]
    return CampaignReport(
        campaign_id=campaign.id,
        status=campaign.status,
        audience_size=len(campaign.recipients),
        variants=marketing.view.report(campaign.id),
        spend={currency: Decimal(total) for currency, total in sorted(spend.items())},
    )
