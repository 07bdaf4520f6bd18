"""The marketing service's `eventsourcing` application: one method per command.

Each command loads an aggregate, lets it decide, and saves the new events atomically;
optimistic concurrency turns a stale decision into `StaleVersion` (HTTP 409).
Commands that many processes race on (tracking, the audience consumer, the sender)
retry on a concurrent write, because their decisions are idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Mapper
from eventsourcing.utils import EnvType

from services.marketing import templates
from services.marketing.domain import Campaign, InvalidInput, NotFound, Segment, StaleVersion
from services.marketing.members import PII_FIELDS, AudienceMember
from services.marketing.messages import Message, message_id
from services.marketing.rules import Member, MetricsSource, NoMetrics, SegmentRules, select
from services.marketing.view import Eligibility, MarketingView
from shared.platform.concurrency import retries_race, save_or_stale
from shared.platform.keystore import KeyStore, keystore_for
from shared.platform.pii import PiiMapper

A = TypeVar("A", bound=Aggregate)
Clock = Callable[[], datetime]
RETRIES = 5


def utc_now() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(UTC)


class MarketingApplication(Application[UUID]):
    """Marketing automation: audience, segments, campaigns, message outcomes, spend."""

    name = "marketing"

    def __init__(
        self, env: EnvType | None = None, *, metrics: MetricsSource | None = None, clock: Clock = utc_now
    ) -> None:
        self.keys: KeyStore | None = None
        super().__init__(env)
        self.metrics = metrics or NoMetrics()
        self.clock = clock
        self.view = MarketingView(self)

    def construct_mapper(self) -> Mapper[UUID]:
        """A mapper that seals each customer's personal data with their own key."""
        self.keys = keystore_for(self.env.get)
        return PiiMapper(self.construct_transcoder(), self.keys, PII_FIELDS)

    # segments

    def define_segment(self, *, name: str, description: str, rules: SegmentRules, by: str) -> Segment:
        """A new segment (its metric conditions checked with analytics first)."""
        self._check_metrics(rules)
        segment = Segment(name=name, description=description, rules=rules.model_dump(mode="json"), defined_by=by)
        self.save(segment)
        return segment

    @retries_race(StaleVersion)
    def redefine_segment(
        self, segment_id: UUID, *, expected_version: int | None, name: str, description: str, rules: SegmentRules
    ) -> Segment:
        """Change a segment (campaigns evaluate it when they start sending)."""
        self._check_metrics(rules)
        segment = self._load(Segment, segment_id, expected_version)
        segment.redefine(name, description, rules.model_dump(mode="json"))
        self._save(segment)
        return segment

    def _check_metrics(self, rules: SegmentRules) -> None:
        """Analytics would answer every metric condition (`MetricConditionRefused`, a 422, if not)."""
        for condition in rules.metric_conditions:
            self.metrics.check(condition)

    def segment(self, segment_id: UUID) -> Segment:
        """The segment, or `NotFound`."""
        return self._get(Segment, segment_id)

    def segment_members(self, segment_id: UUID) -> list[Member]:
        """Who the segment selects right now (metric conditions are asked of analytics)."""
        rules = SegmentRules.model_validate(self.segment(segment_id).rules)
        return select(rules, self.view.audience(), self.metrics)

    def eligible(self, segment_id: UUID, channel: str) -> Eligibility:
        """The segment's members a `channel` message may go to, and why the others may not."""
        return self.view.eligible(self.segment_members(segment_id), channel)

    # campaigns

    def create_campaign(
        self,
        *,
        name: str,
        channel: str,
        segment_id: UUID,
        variants: list[dict[str, Any]],
        fallbacks: dict[str, str],
        by: str,
    ) -> Campaign:
        """A draft campaign; templates are checked now so a bad one never reaches a customer."""
        self.segment(segment_id)
        _check_variants(channel, variants)
        campaign = Campaign(
            name=name, channel=channel, segment_id=segment_id, variants=variants, fallbacks=fallbacks, created_by=by
        )
        self.save(campaign)
        return campaign

    @retries_race(StaleVersion)
    def edit_campaign(self, campaign_id: UUID, *, expected_version: int | None, changes: dict[str, Any]) -> Campaign:
        """Change a draft."""
        campaign = self._load(Campaign, campaign_id, expected_version)
        if "segment_id" in changes:
            self.segment(changes["segment_id"])
        _check_variants(campaign.channel, changes.get("variants", campaign.variants))
        campaign.edit(changes)
        self._save(campaign)
        return campaign

    @retries_race(StaleVersion)
    def schedule(self, campaign_id: UUID, *, expected_version: int | None, send_at: datetime | None) -> Campaign:
        """Plan sending for `send_at` (now when omitted)."""
        campaign = self._load(Campaign, campaign_id, expected_version)
        campaign.schedule(send_at or self.clock())
        self._save(campaign)
        return campaign

    @retries_race(StaleVersion)
    def cancel(self, campaign_id: UUID, *, expected_version: int | None, by: str) -> Campaign:
        """Stop a campaign before or while it sends."""
        campaign = self._load(Campaign, campaign_id, expected_version)
        campaign.cancel(by, self.clock())
        self._save(campaign)
        return campaign

    def record_spend(
        self,
        campaign_id: UUID,
        *,
        spend_id: UUID,
        channel: str,
        amount: Decimal,
        currency: str,
        note: str | None,
        spent_on: datetime | None,
        by: str,
    ) -> Campaign:
        """Record spend on a campaign (idempotent per `spend_id`)."""

        def change(campaign: Campaign) -> None:
            campaign.record_spend(spend_id, channel, amount, currency, note, spent_on or self.clock(), by)

        return self._retrying(Campaign, campaign_id, change)

    def campaign(self, campaign_id: UUID) -> Campaign:
        """The campaign, or `NotFound`."""
        return self._get(Campaign, campaign_id)

    # sending

    def start_sending(self, campaign_id: UUID) -> Campaign:
        """Freeze the audience snapshot of a due campaign (a campaign already sending keeps its own)."""
        campaign = self.campaign(campaign_id)
        if campaign.status != "scheduled":
            return campaign
        found = self.eligible(campaign.segment_id, campaign.channel)
        recipients = [[str(m.id), campaign.variant_for(m.id)] for m in found.members]
        campaign.start_sending(recipients, dict(found.excluded), self.clock())
        self._save(campaign)
        return campaign

    def complete(self, campaign_id: UUID, *, sent: int, bounced: int, withheld: int) -> None:
        """Close a campaign whose every recipient was handled (not one cancelled meanwhile)."""
        campaign = self.campaign(campaign_id)
        if campaign.status == "sending":
            campaign.complete(sent, bounced, withheld, self.clock())
            self._save(campaign)

    def message(self, ident: UUID) -> Message | None:
        """The message, or None if it was never prepared."""
        try:
            found: Message = self.repository.get(ident)
        except AggregateNotFoundError:
            return None
        return found

    def prepare(self, campaign: Campaign, customer_id: UUID, variant: str) -> Message:
        """Record "about to send" with the message's idempotency key (its id)."""
        ident = message_id(campaign.id, customer_id)
        message = Message(
            campaign_id=campaign.id, customer_id=customer_id, channel=campaign.channel, variant=variant, id=ident
        )
        self.save(message)
        return message

    def mark_sent(self, ident: UUID, *, confirmed: bool = True) -> None:
        """The server took the message."""
        self._retrying(Message, ident, lambda m: m.mark_sent(self.clock(), confirmed=confirmed))

    def bounce(self, ident: UUID, *, code: int, permanent: bool) -> None:
        """The server refused the message."""
        self._retrying(Message, ident, lambda m: m.bounce(code, permanent, self.clock()))

    # tracking

    def record_open(self, ident: UUID) -> None:
        """The tracking pixel of the message loaded."""
        self._retrying(Message, ident, lambda m: m.open(self.clock()))

    def record_click(self, ident: UUID, url: str) -> None:
        """A tracked link of the message was followed."""
        self._retrying(Message, ident, lambda m: m.click(url, self.clock()))

    def unsubscribe(self, ident: UUID) -> Message:
        """The recipient unsubscribed from the message's channel: suppressed from now on."""
        return self._retrying(Message, ident, lambda m: m.unsubscribe(self.clock()))

    # audience (kept from the customer stream)

    def join(self, customer_id: UUID, **fields: Any) -> None:
        """A customer registered; a redelivery changes nothing."""
        if customer_id not in self.repository:
            try:
                self.save(AudienceMember(id=customer_id, **fields))
            except IntegrityError:
                return

    def update_member(self, customer_id: UUID, change: Callable[[AudienceMember], None]) -> None:
        """Apply an audience change to a known member (unknown ones are ignored)."""
        if customer_id in self.repository:
            self._retrying(AudienceMember, customer_id, change)

    def erase_member(self, customer_id: UUID) -> None:
        """Forget an erased customer and shred their key; safe to repeat."""
        self.update_member(customer_id, AudienceMember.erase)
        self.pii_keys.shred(customer_id)

    @property
    def pii_keys(self) -> KeyStore:
        """The per-customer keys sealing personal data in this store."""
        assert self.keys is not None, "set by construct_mapper"
        return self.keys

    # plumbing

    def _get(self, cls: type[A], ident: UUID) -> A:
        try:
            found: Aggregate = self.repository.get(ident)
        except AggregateNotFoundError:
            raise NotFound(cls.__name__.lower(), ident) from None
        if not isinstance(found, cls):
            raise NotFound(cls.__name__.lower(), ident)
        return found

    def _load(self, cls: type[A], ident: UUID, expected_version: int | None) -> A:
        found = self._get(cls, ident)
        if expected_version is not None and expected_version != found.version:
            raise StaleVersion(expected_version, found.version, ident)
        return found

    def _save(self, aggregate: Aggregate) -> None:
        save_or_stale(self, (aggregate,), StaleVersion)

    def _retrying(self, cls: type[A], ident: UUID, change: Callable[[A], Any]) -> A:
        """Load, change, save; on a concurrent write reload and decide again (idempotent changes only)."""
        for attempt in range(1, RETRIES + 1):
            aggregate = self._get(cls, ident)
            change(aggregate)
            try:
                save_or_stale(self, (aggregate,), StaleVersion)
            except StaleVersion:
                if attempt == RETRIES:
                    raise
            else:
                return aggregate
        raise AssertionError("unreachable")  # pragma: no cover


def _check_variants(channel: str, variants: list[dict[str, Any]]) -> None:
    """Unique names, positive weights, and templates that render (subject and HTML for email, text for SMS)."""
    names = [v["name"] for v in variants]
    if not variants or len(set(names)) != len(names):
        raise InvalidInput("a campaign needs at least one variant, each with its own name")
    for variant in variants:
        if channel == "email" and not (variant.get("subject") and variant.get("html")):
            raise InvalidInput(f"email variant {variant['name']!r} needs a subject and an html body")
        if channel == "sms" and not variant.get("text"):
            raise InvalidInput(f"sms variant {variant['name']!r} needs a text body")
        for part in ("subject", "text"):
            if variant.get(part):
                templates.check(variant[part], html=False)
        if variant.get("html"):
            templates.check(variant["html"], html=True)
