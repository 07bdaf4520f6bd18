"""What the social service does on the customer stream: identity resolution data, merges, erasure.

- `registered`, `contact_point_added`, `duplicate_absorbed` give a customer's emails, kept
  to link authors who write from them (waiting interactions are linked at once);
- `contact_point_removed` forgets one;
- `merged` re-points the merged customer's interactions and handles to the survivor;
- `erased` erases their interactions and handles and shreds their keys.

Handlers are idempotent; a write that loses a race with the API is decided again.
`python -m services.social.consumers` runs it in consumer group `social`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from services.social.application import SocialApplication
from services.social.domain import StaleVersion
from services.social.inbox import Inbox
from services.social.lifecycle import CustomerLifecycle
from services.social.settings import SocialSettings
from shared.events import EventEnvelope
from shared.events import customer as c
from shared.platform.consuming import EventConsumer, Handler, run_consumers
from shared.platform.eventstore import persistence_env
from shared.platform.kafka import KafkaSettings

log = logging.getLogger("crm.social.consumers")
GROUP = "social"
CONFLICT_RETRIES = 5


def _retrying(action: Callable[[], None]) -> None:
    """Run `action`, again if a concurrent writer made its decision stale."""
    for attempt in range(CONFLICT_RETRIES):
        try:
            action()
            return
        except StaleVersion:
            if attempt == CONFLICT_RETRIES - 1:
                raise


class SocialReactions:
    """One handler per customer event."""

    def __init__(self, lifecycle: CustomerLifecycle) -> None:
        self.lifecycle = lifecycle

    def registered(self, envelope: EventEnvelope, event: c.CustomerRegisteredV2) -> None:
        """Remember the new customer's emails."""
        _retrying(lambda: self.lifecycle.emails_added(event.customer_id, list(event.emails)))

    def contact_added(self, envelope: EventEnvelope, event: c.CustomerContactPointAddedV1) -> None:
        """Remember a new email (phones are not used to match authors)."""
        if event.kind == "email":
            _retrying(lambda: self.lifecycle.emails_added(event.customer_id, [event.value]))

    def contact_removed(self, envelope: EventEnvelope, event: c.CustomerContactPointRemovedV1) -> None:
        """Forget a removed email."""
        if event.kind == "email":
            _retrying(lambda: self.lifecycle.email_removed(event.customer_id, event.value))

    def absorbed(self, envelope: EventEnvelope, event: c.CustomerDuplicateAbsorbedV1) -> None:
        """The survivor of a merge took the duplicate's emails."""
        if event.emails:
            _retrying(lambda: self.lifecycle.emails_added(event.customer_id, list(event.emails)))

    def merged(self, envelope: EventEnvelope, event: c.CustomerMergedV1) -> None:
        """Re-point to the survivor."""
        _retrying(lambda: self.lifecycle.merged(event.customer_id, event.survivor_id))
        log.info("customer %s merged into %s: interactions re-pointed", event.customer_id, event.survivor_id)

    def erased(self, envelope: EventEnvelope, event: c.CustomerErasedV1) -> None:
        """Forget the customer."""
        _retrying(lambda: self.lifecycle.erased(event.customer_id))
        log.info("customer %s erased: interactions and handles shredded", event.customer_id)


def build_consumer(app: SocialApplication, kafka: KafkaSettings) -> EventConsumer:
    """The social service's consumer over `app`."""
    reactions = SocialReactions(CustomerLifecycle(Inbox(app)))
    newest: dict[type[Any], Handler] = {
        c.CustomerRegisteredV2: reactions.registered,
        c.CustomerContactPointAddedV1: reactions.contact_added,
        c.CustomerContactPointRemovedV1: reactions.contact_removed,
        c.CustomerDuplicateAbsorbedV1: reactions.absorbed,
        c.CustomerMergedV1: reactions.merged,
        c.CustomerErasedV1: reactions.erased,
    }
    return EventConsumer(GROUP, newest, kafka)  # v1 events reach them upcast (EventConsumer parses)


def main() -> None:
    """Entry point: `python -m services.social.consumers`."""
    settings = SocialSettings()
    app = SocialApplication(env=persistence_env(settings.store))
    run_consumers("social", settings.log_level, lambda kafka: build_consumer(app, kafka))


if __name__ == "__main__":
    main()
