"""One campaign message to one customer: the idempotency record of sending.

Its id is derived from (campaign, customer), so the sender can ask "did this customer
already get this campaign?" after any crash. `Prepared` is recorded before the mail
server is told to accept the message (see `mailer.py`), so a restart never sends twice.
No personal data lives here: the address is looked up at send time and never stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

MESSAGES = uuid5(NAMESPACE_URL, "https://crm.example/marketing/messages")


def message_id(campaign_id: UUID, customer_id: UUID) -> UUID:
    """The id (and idempotency key, and Message-ID) of a campaign's message to a customer."""
    return uuid5(MESSAGES, f"{campaign_id}/{customer_id}")


class Message(Aggregate):
    """A message's life: prepared → sent or bounced, then opened, clicked, unsubscribed."""

    if TYPE_CHECKING:
        Prepared: ClassVar[type[Aggregate.Event]]
        Sent: ClassVar[type[Aggregate.Event]]
        Bounced: ClassVar[type[Aggregate.Event]]
        Opened: ClassVar[type[Aggregate.Event]]
        Clicked: ClassVar[type[Aggregate.Event]]
        Unsubscribed: ClassVar[type[Aggregate.Event]]

    @event("Prepared")
    def __init__(self, campaign_id: UUID, customer_id: UUID, channel: str, variant: str, id: UUID) -> None:
        self.campaign_id = campaign_id
        self.customer_id = customer_id
        self.channel = channel
        self.variant = variant
        self.outcome: str | None = None
        self.opened = False
        self.clicks = 0
        self.unsubscribed = False

    def mark_sent(self, at: datetime, *, confirmed: bool = True) -> None:
        """The server accepted it (or, unconfirmed, may have: a restart never resends those)."""
        if self.outcome is None:
            self._sent(sent_at=at, confirmed=confirmed)

    @event("Sent")
    def _sent(self, sent_at: datetime, confirmed: bool) -> None:
        self.outcome = "sent"

    def bounce(self, code: int, permanent: bool, at: datetime) -> None:
        """The server refused it."""
        if self.outcome is None:
            self._bounced(code=code, permanent=permanent, bounced_at=at)

    @event("Bounced")
    def _bounced(self, code: int, permanent: bool, bounced_at: datetime) -> None:
        self.outcome = "bounced"

    def open(self, at: datetime) -> bool:
        """The first open is recorded; later ones change nothing."""
        if self.opened:
            return False
        self._opened(opened_at=at)
        return True

    @event("Opened")
    def _opened(self, opened_at: datetime) -> None:
        self.opened = True

    @event("Clicked")
    def click(self, url: str, clicked_at: datetime) -> None:
        """Every click on a tracked link is an engagement signal."""
        self.clicks += 1

    def unsubscribe(self, at: datetime) -> bool:
        """The recipient unsubscribed from this message's channel; again changes nothing."""
        if self.unsubscribed:
            return False
        self._unsubscribed(unsubscribed_at=at)
        return True

    @event("Unsubscribed")
    def _unsubscribed(self, unsubscribed_at: datetime) -> None:
        self.unsubscribed = True
