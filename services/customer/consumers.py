"""What the customer service does on other services' events: converted leads and unsubscribes.

The customer service owns customers and their consent, so other services announce
facts and this process records them:

- `crm.sales.lead_converted.v1` registers the customer under the id sales derived from
  the lead (`customer_id_for_lead`); a redelivery finds it registered and does nothing.
- `crm.marketing.unsubscribed.v1` withdraws consent on that channel, following merges to
  the surviving customer; an erased customer has nothing left to withdraw.

`python -m services.customer.consumers` runs it in consumer group `customer`.
"""

from __future__ import annotations

import logging

from services.customer.application import CustomerApplication
from services.customer.domain import Customer, StaleVersion
from services.customer.settings import CustomerSettings
from shared.events import EventEnvelope
from shared.events.marketing import UnsubscribedV1
from shared.events.sales import LeadConvertedV1, customer_id_for_lead
from shared.platform.consuming import EventConsumer, run_consumers
from shared.platform.eventstore import persistence_env
from shared.platform.kafka import KafkaSettings

log = logging.getLogger("crm.customer.consumers")
GROUP = "customer"
CONFLICT_RETRIES = 5
"""A concurrent API write makes a consent change stale; it is simply decided again."""


class WrongLeadCustomer(ValueError):
    """A `LeadConverted` whose customer id is not the one derived from its lead id."""


class CustomerReactions:
    """The handlers, one per event model; each is idempotent (delivery is at least once)."""

    def __init__(self, customers: CustomerApplication) -> None:
        self.customers = customers

    def lead_converted(self, envelope: EventEnvelope, event: LeadConvertedV1) -> None:
        """Register the converted lead's customer, once, under the agreed id."""
        expected = customer_id_for_lead(event.lead_id)
        if event.customer_id != expected:
            raise WrongLeadCustomer(f"lead {event.lead_id} converts to {expected}, not {event.customer_id}")
        consent = {str(channel): granted for channel, granted in event.consent.items()}
        self.customers.register(
            name=event.name,
            emails=event.emails,
            phones=event.phones,
            source="lead",
            consent=consent,
            customer_id=event.customer_id,
        )
        log.info("registered customer %s from lead %s", event.customer_id, event.lead_id)

    def unsubscribed(self, envelope: EventEnvelope, event: UnsubscribedV1) -> None:
        """Withdraw the channel's consent of the customer (or of whom they were merged into)."""
        for _ in range(CONFLICT_RETRIES):
            customer = self._current(event)
            if customer.erased:
                return
            try:
                self.customers.change_consent(
                    customer.id, expected_version=customer.version, channel=event.channel, granted=False
                )
                return
            except StaleVersion:
                continue
        raise StaleVersion(-1, -1, event.customer_id)

    def _current(self, event: UnsubscribedV1) -> Customer:
        customer = self.customers.get(event.customer_id)
        while customer.merged_into is not None:
            customer = self.customers.get(customer.merged_into)
        return customer


def build_consumer(customers: CustomerApplication, kafka: KafkaSettings) -> EventConsumer:
    """The customer service's consumer over `customers`."""
    reactions = CustomerReactions(customers)
    return EventConsumer(
        GROUP,
        {LeadConvertedV1: reactions.lead_converted, UnsubscribedV1: reactions.unsubscribed},
        kafka,
    )


def main() -> None:
    """Entry point: `python -m services.customer.consumers`."""
    settings = CustomerSettings()
    customers = CustomerApplication(env=persistence_env(settings.store), default_region=settings.default_phone_region)
    run_consumers("customer", settings.log_level, lambda kafka: build_consumer(customers, kafka))


if __name__ == "__main__":
    main()
