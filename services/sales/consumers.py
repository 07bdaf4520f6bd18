"""The sales service's reactions to other streams (consumer group `sales`).

- `CustomerRegisteredV2` (v1 messages arrive upcast) / `CustomerContactPointAddedV1` / `CustomerDuplicateAbsorbedV1`:
  remember the customer's emails (sealed with their key) to match marketing clicks to open leads;
- `LinkClickedV1`: an engagement signal; each click (id `<message id>:<clicked at>`) is
  counted once for every open lead whose email is one of the clicking customer's, and rescored;
- `CustomerMergedV1`: the merged customer's deals, quotes and orders are re-pointed to the survivor;
- `CustomerErasedV1`: the keys of the customer's leads (converted into them, or with one of their
  emails) and of their remembered emails are shredded, and the views drop that PII.
Every handler is idempotent: delivery is at least once.
"""

from __future__ import annotations

from typing import Any

from services.sales.application import SalesApplication
from services.sales.settings import SalesSettings
from shared.events import EventEnvelope
from shared.events import customer as c
from shared.events import marketing as m
from shared.platform.consuming import EventConsumer, Handler, run_consumers
from shared.platform.eventstore import persistence_env
from shared.platform.kafka import KafkaSettings


def handlers(sales: SalesApplication) -> dict[type[Any], Handler]:
    """One handler per consumed event type (plain functions: they run in a worker thread).

    Handlers take the newest version of each event; older versions on the topic reach them upcast.
    """

    def registered(envelope: EventEnvelope, e: c.CustomerRegisteredV2) -> None:
        sales.remember_emails(e.customer_id, e.emails)

    def contact_added(envelope: EventEnvelope, e: c.CustomerContactPointAddedV1) -> None:
        if e.kind == "email":
            sales.remember_emails(e.customer_id, [e.value])

    def absorbed(envelope: EventEnvelope, e: c.CustomerDuplicateAbsorbedV1) -> None:
        sales.remember_emails(e.customer_id, e.emails)

    def clicked(envelope: EventEnvelope, e: m.LinkClickedV1) -> None:
        sales.record_click(e.customer_id, f"{e.message_id}:{e.clicked_at.isoformat()}")

    def merged(envelope: EventEnvelope, e: c.CustomerMergedV1) -> None:
        sales.repoint_customer(e.customer_id, e.survivor_id)

    def erased(envelope: EventEnvelope, e: c.CustomerErasedV1) -> None:
        sales.forget_customer(e.customer_id)

    newest: dict[type[Any], Handler] = {
        c.CustomerRegisteredV2: registered,
        c.CustomerContactPointAddedV1: contact_added,
        c.CustomerDuplicateAbsorbedV1: absorbed,
        m.LinkClickedV1: clicked,
        c.CustomerMergedV1: merged,
        c.CustomerErasedV1: erased,
    }
    return newest


def build_consumer(sales: SalesApplication, kafka: KafkaSettings) -> EventConsumer:
    """The `sales` consumer group acting on `sales`."""
    return EventConsumer(group="sales", handlers=handlers(sales), kafka=kafka)


def main() -> None:
    """Entry point: `python -m services.sales.consumers`."""
    settings = SalesSettings()
    sales = SalesApplication(env=persistence_env(settings.store), settings=settings)
    run_consumers("sales", settings.log_level, lambda kafka: build_consumer(sales, kafka))


if __name__ == "__main__":
    main()
