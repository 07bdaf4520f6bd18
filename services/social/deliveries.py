"""A webhook delivery accepted once: its id is derived from the account and delivery id.

Saving a second `Delivery` with the same id fails in the store, which is how a replayed
delivery is recognised across processes and restarts (no in-memory cache to lose).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.social.domain import derived_id


def delivery_id(account_id: UUID, delivery: str) -> UUID:
    """The aggregate id of delivery `delivery` on `account_id`."""
    return derived_id("delivery", account_id, delivery)


class Delivery(Aggregate):
    """The record that a signed delivery was accepted."""

    if TYPE_CHECKING:
        Accepted: ClassVar[type[Aggregate.Event]]

    @event("Accepted")
    def __init__(
        self, account_id: UUID, delivery: str, kind: str, received_at: datetime, id: UUID | None = None
    ) -> None:
        self.account_id = account_id
        self.delivery = delivery
        self.kind = kind
        self.received_at = received_at
