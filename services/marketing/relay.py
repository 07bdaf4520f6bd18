"""The marketing service's outbox relay: marketing domain events → `crm.marketing.v1`.

One explicit function per domain event; segment and audience events stay private
(the audience is a copy of the customer stream, republishing it would echo it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate

from services.marketing.application import MarketingApplication
from services.marketing.domain import Campaign, Segment
from services.marketing.members import AudienceMember
from services.marketing.messages import Message
from services.marketing.settings import MarketingSettings
from shared.events import PublicEvent
from shared.events import marketing as public
from shared.platform.eventstore import persistence_env
from shared.platform.outbox import Publish, Relay, domain_event_classes
from shared.platform.relaying import relay_over, run_relay


def _created(e: Any) -> PublicEvent:
    return public.CampaignCreatedV1(
        campaign_id=e.originator_id,
        name=e.name,
        channel=e.channel,
        segment_id=e.segment_id,
        variants=[v["name"] for v in e.variants],
    )


def _scheduled(e: Any) -> PublicEvent:
    return public.CampaignScheduledV1(campaign_id=e.originator_id, send_at=e.send_at)


def _started(e: Any) -> PublicEvent:
    return public.CampaignSendingStartedV1(
        campaign_id=e.originator_id, audience_size=len(e.recipients), excluded=e.excluded, started_at=e.started_at
    )


def _completed(e: Any) -> PublicEvent:
    return public.CampaignCompletedV1(
        campaign_id=e.originator_id, sent=e.sent, bounced=e.bounced, withheld=e.withheld, completed_at=e.completed_at
    )


def _cancelled(e: Any) -> PublicEvent:
    return public.CampaignCancelledV1(
        campaign_id=e.originator_id, cancelled_by=e.cancelled_by, cancelled_at=e.cancelled_at
    )


def _spend(e: Any) -> PublicEvent:
    return public.CampaignSpendRecordedV1(
        campaign_id=e.originator_id,
        spend_id=e.spend_id,
        channel=e.channel,
        amount=e.amount,
        currency=e.currency,
        note=e.note,
        spent_on=e.spent_on,
    )


def _private(e: Any) -> None:
    return None


class _MessageMapping:
    """Message events need the message's campaign, customer and channel, which only `Prepared` carries."""

    def __init__(self, app: MarketingApplication) -> None:
        self.app = app

    def _message(self, e: Any) -> Message:
        message: Message = self.app.repository.get(e.originator_id, version=e.originator_version)
        return message

    def sent(self, e: Any) -> PublicEvent:
        m = self._message(e)
        return public.MessageSentV1(
            customer_id=m.customer_id,
            campaign_id=m.campaign_id,
            message_id=m.id,
            channel=m.channel,
            variant=m.variant,
            sent_at=e.sent_at,
            confirmed=e.confirmed,
        )

    def bounced(self, e: Any) -> PublicEvent:
        m = self._message(e)
        return public.MessageBouncedV1(
            customer_id=m.customer_id,
            campaign_id=m.campaign_id,
            message_id=m.id,
            channel=m.channel,
            permanent=e.permanent,
            code=e.code,
            bounced_at=e.bounced_at,
        )

    def opened(self, e: Any) -> PublicEvent:
        m = self._message(e)
        return public.EmailOpenedV1(
            customer_id=m.customer_id, campaign_id=m.campaign_id, message_id=m.id, opened_at=e.opened_at
        )

    def clicked(self, e: Any) -> PublicEvent:
        m = self._message(e)
        return public.LinkClickedV1(
            customer_id=m.customer_id, campaign_id=m.campaign_id, message_id=m.id, url=e.url, clicked_at=e.clicked_at
        )

    def unsubscribed(self, e: Any) -> PublicEvent:
        m = self._message(e)
        return public.UnsubscribedV1(
            customer_id=m.customer_id,
            channel=m.channel,
            campaign_id=m.campaign_id,
            message_id=m.id,
            unsubscribed_at=e.unsubscribed_at,
        )


AGGREGATES: tuple[type[Aggregate], ...] = (Campaign, Message, Segment, AudienceMember)
"""Every aggregate in the marketing store: each of their events is published or listed in `PRIVATE`."""

PRIVATE: frozenset[type[Any]] = frozenset(
    {
        Campaign.Edited,
        Message.Prepared,
        Segment.Defined,
        Segment.Redefined,
        *(e for e in domain_event_classes(AudienceMember)),  # the audience is a copy of the customer stream
    }
)
"""Marketing events subscribers never see."""


class UnmappedEvent(LookupError):
    """A domain event the relay has no decision for: publishing or hiding it must be chosen in `mapping`."""


def mapping(app: MarketingApplication) -> dict[type[Any], Callable[[Any], PublicEvent | None]]:
    """Domain event class → its public event; `PRIVATE` ones map to None."""
    messages = _MessageMapping(app)
    public_events: dict[type[Any], Callable[[Any], PublicEvent | None]] = {
        Campaign.Drafted: _created,
        Campaign.Scheduled: _scheduled,
        Campaign.SendingStarted: _started,
        Campaign.Completed: _completed,
        Campaign.Cancelled: _cancelled,
        Campaign.SpendRecorded: _spend,
        Message.Sent: messages.sent,
        Message.Bounced: messages.bounced,
        Message.Opened: messages.opened,
        Message.Clicked: messages.clicked,
        Message.Unsubscribed: messages.unsubscribed,
    }
    if both := set(public_events) & PRIVATE:
        raise ValueError(f"published and private at once: {sorted(e.__qualname__ for e in both)}")
    return public_events | dict.fromkeys(PRIVATE, _private)


def to_public_for(app: MarketingApplication) -> Callable[[Any], PublicEvent | None]:
    """The relay's mapping over `app`; an event it has no decision for stops the relay (never silently private)."""
    table = mapping(app)

    def to_public(domain_event: Any) -> PublicEvent | None:
        try:
            convert = table[type(domain_event)]
        except KeyError:
            raise UnmappedEvent(f"{type(domain_event).__qualname__} is neither published nor private") from None
        return convert(domain_event)

    return to_public


def build_relay(settings: MarketingSettings, publish: Publish) -> Relay:
    """A relay over the marketing store configured by `settings`."""
    app = MarketingApplication(env=persistence_env(settings.store))
    return relay_over("marketing", app, to_public_for(app), settings, publish)


def main() -> None:
    """Entry point of the relay process: `python -m services.marketing.relay`."""
    settings = MarketingSettings()
    run_relay("marketing", settings, lambda publish: build_relay(settings, publish))


if __name__ == "__main__":
    main()
