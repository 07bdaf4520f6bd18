"""The audience consumer: keeps marketing's copy of customers from `crm.customer.v1`.

Process: `python -m services.marketing.consumers` (consumer group `marketing`). Every
handler is idempotent (at-least-once delivery): the member's own state decides whether
an event still changes anything.
"""

from __future__ import annotations

from typing import Any

from services.marketing.application import MarketingApplication
from services.marketing.settings import MarketingSettings
from shared.events import EventEnvelope
from shared.events import customer as c
from shared.platform.consuming import EventConsumer, Handler, run_consumers
from shared.platform.eventstore import persistence_env
from shared.platform.kafka import KafkaSettings


def handlers(app: MarketingApplication) -> dict[type[Any], Handler]:
    """One handler per customer event marketing keeps (plain functions: they run in a worker thread).

    Handlers take the newest version of each event; older versions on the topic reach them upcast.
    """

    def registered(_: EventEnvelope, e: c.CustomerRegisteredV2) -> None:
        app.join(
            e.customer_id,
            name=e.name,
            emails=list(e.emails),
            phones=list(e.phones),
            source=e.source,
            tags=list(e.tags),
            consent=dict(e.consent),
        )

    def profile(_: EventEnvelope, e: c.CustomerProfileUpdatedV2) -> None:
        app.update_member(e.customer_id, lambda m: m.change_profile(e.name, e.source, e.tags))

    def added(_: EventEnvelope, e: c.CustomerContactPointAddedV1) -> None:
        app.update_member(e.customer_id, lambda m: m.add_contact_point(e.kind, e.value))

    def removed(_: EventEnvelope, e: c.CustomerContactPointRemovedV1) -> None:
        app.update_member(e.customer_id, lambda m: m.remove_contact_point(e.kind, e.value))

    def consent(_: EventEnvelope, e: c.CustomerConsentChangedV1) -> None:
        app.update_member(e.customer_id, lambda m: m.change_consent(e.channel, e.granted))

    def absorbed(_: EventEnvelope, e: c.CustomerDuplicateAbsorbedV1) -> None:
        app.update_member(e.customer_id, lambda m: m.absorb(e.merged_id, e.emails, e.phones, e.tags))

    def merged(_: EventEnvelope, e: c.CustomerMergedV1) -> None:
        app.update_member(e.customer_id, lambda m: m.merge_into(e.survivor_id))

    def erased(_: EventEnvelope, e: c.CustomerErasedV1) -> None:
        app.erase_member(e.customer_id)

    newest: dict[type[Any], Handler] = {
        c.CustomerRegisteredV2: registered,
        c.CustomerProfileUpdatedV2: profile,
        c.CustomerContactPointAddedV1: added,
        c.CustomerContactPointRemovedV1: removed,
        c.CustomerConsentChangedV1: consent,
        c.CustomerDuplicateAbsorbedV1: absorbed,
        c.CustomerMergedV1: merged,
        c.CustomerErasedV1: erased,
    }
    return newest


def build_consumer(app: MarketingApplication, kafka: KafkaSettings) -> EventConsumer:
    """The `marketing` consumer group over the customer stream."""
    return EventConsumer(group="marketing", handlers=handlers(app), kafka=kafka)


def main() -> None:
    """Entry point: `python -m services.marketing.consumers`."""
    settings = MarketingSettings()
    app = MarketingApplication(env=persistence_env(settings.store))
    run_consumers("marketing", settings.log_level, lambda kafka: build_consumer(app, kafka))


if __name__ == "__main__":
    main()
