"""The support desk reacting to other streams: social escalations open tickets; customer merges and erasures.

Delivery is at least once, so every handler is idempotent: the ticket of an escalated
interaction has an id derived from the interaction (redelivery opens nothing new),
re-pointing to a survivor and erasing are no-ops the second time.
"""

from __future__ import annotations

import logging
from uuid import NAMESPACE_URL, UUID, uuid5

from services.support.application import SupportApplication
from services.support.domain import CustomerErased
from services.support.settings import SupportSettings
from shared.events import EventEnvelope
from shared.events.customer import CustomerErasedV1, CustomerMergedV1
from shared.events.social import InteractionEscalatedV1
from shared.platform.consuming import EventConsumer, run_consumers
from shared.platform.eventstore import persistence_env
from shared.platform.kafka import KafkaSettings

ESCALATION_CATEGORY = "social"
log = logging.getLogger("crm.support.consumers")
MAX_SUBJECT = 120


def ticket_id_for(interaction_id: UUID) -> UUID:
    """The one ticket an escalated social interaction opens."""
    return uuid5(NAMESPACE_URL, f"crm:support:social-interaction:{interaction_id}")


class SupportHandlers:
    """The handlers of the `support` consumer group, over one application."""

    def __init__(self, app: SupportApplication) -> None:
        self.app = app

    def escalated(self, envelope: EventEnvelope, event: InteractionEscalatedV1) -> None:
        """Open the interaction's ticket on the social channel, with the priority the escalation asks for.

        An escalation about a customer erased meanwhile opens nothing: nothing personal is kept after erasure.
        """
        try:
            self._open(event)
        except CustomerErased:
            log.info("escalation %s is about an erased customer; no ticket opened", event.interaction_id)

    def _open(self, event: InteractionEscalatedV1) -> None:
        self.app.open_ticket(
            ticket_id=ticket_id_for(event.interaction_id),
            customer_id=event.customer_id,
            channel="social",
            subject=_subject(event),
            description=f"{event.text}\n\n— {event.author_handle} on {event.platform} ({event.kind}); "
            f"escalated by {event.escalated_by}: {event.reason}" + (f"\n{event.permalink}" if event.permalink else ""),
            category=ESCALATION_CATEGORY,
            priority=event.priority,
            opened_by=event.escalated_by,
            source_interaction_id=event.interaction_id,
        )

    def merged(self, envelope: EventEnvelope, event: CustomerMergedV1) -> None:
        """Move the merged customer's tickets and feedback to the survivor."""
        self.app.repoint_customer(event.customer_id, event.survivor_id)

    def erased(self, envelope: EventEnvelope, event: CustomerErasedV1) -> None:
        """Erase what the customer said in tickets and feedback, and shred those keys."""
        self.app.erase_customer(event.customer_id)


def _subject(event: InteractionEscalatedV1) -> str:
    first_line = event.text.strip().splitlines()[0] if event.text.strip() else event.reason
    return f"[{event.platform}] {first_line}"[:MAX_SUBJECT]


def build_consumer(app: SupportApplication, kafka: KafkaSettings) -> EventConsumer:
    """The `support` consumer group and its handlers."""
    handlers = SupportHandlers(app)
    return EventConsumer(
        group="support",
        handlers={
            InteractionEscalatedV1: handlers.escalated,
            CustomerMergedV1: handlers.merged,
            CustomerErasedV1: handlers.erased,
        },
        kafka=kafka,
    )


def main() -> None:
    """Entry point: `python -m services.support.consumers`."""
    settings = SupportSettings()
    app = SupportApplication(env=persistence_env(settings.store))
    run_consumers("support", settings.log_level, lambda kafka: build_consumer(app, kafka))


if __name__ == "__main__":
    main()
