"""What the social service knows about who is who: handles and customers' emails.

`Identity` remembers that a handle on a platform belongs to a customer (learnt when an
agent links an interaction by hand), so that person's next interactions link
themselves. `KnownCustomer` keeps the emails the customer stream published, to link
authors who share an email. Both are personal data and are shredded with the customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.social.domain import derived_id, handle_key

PII_FIELDS: dict[str, tuple[str, ...]] = {
    "Identity.Learnt": ("handle",),
    "KnownCustomer.Seen": ("emails",),
    "KnownCustomer.EmailsChanged": ("emails",),
}


def identity_id(platform: str, handle: str) -> UUID:
    """The id of the identity of `handle` on `platform` (one per handle, however it is spelled)."""
    return derived_id("identity", platform.lower(), handle_key(handle))


def known_customer_id(customer_id: UUID) -> UUID:
    """Our own aggregate id for a customer: never the customer id, so our keys are ours to shred."""
    return derived_id("customer", customer_id)


class Identity(Aggregate):
    """A platform handle known to belong to a customer."""

    if TYPE_CHECKING:
        Learnt: ClassVar[type[Aggregate.Event]]
        Repointed: ClassVar[type[Aggregate.Event]]
        Forgotten: ClassVar[type[Aggregate.Event]]

    @event("Learnt")
    def __init__(self, platform: str, handle: str, customer_id: UUID, id: UUID | None = None) -> None:
        self.platform = platform
        self.handle = handle
        self.customer_id: UUID | None = customer_id

    def repoint(self, customer_id: UUID) -> None:
        """Belong to another customer now (a new manual link, or a merge)."""
        if customer_id != self.customer_id:
            self._repoint(customer_id=customer_id)

    @event("Repointed")
    def _repoint(self, customer_id: UUID) -> None:
        self.customer_id = customer_id

    def forget(self) -> None:
        """The handle belongs to nobody we know (a wrong match, or an erased customer)."""
        if self.customer_id is not None:
            self._forget()

    @event("Forgotten")
    def _forget(self) -> None:
        self.customer_id = None


class KnownCustomer(Aggregate):
    """A customer of the customer stream, with their current emails."""

    if TYPE_CHECKING:
        Seen: ClassVar[type[Aggregate.Event]]
        EmailsChanged: ClassVar[type[Aggregate.Event]]
        MergedInto: ClassVar[type[Aggregate.Event]]
        Erased: ClassVar[type[Aggregate.Event]]

    @event("Seen")
    def __init__(self, customer_id: UUID, emails: list[str], id: UUID | None = None) -> None:
        self.customer_id = customer_id
        self.emails = list(emails)
        self.survivor_id: UUID | None = None
        self.erased = False

    def change_emails(self, emails: list[str]) -> None:
        """Keep the customer's emails as the customer stream says they are now."""
        if not self.erased and sorted(emails) != sorted(self.emails):
            self._emails(emails=list(emails))

    @event("EmailsChanged")
    def _emails(self, emails: list[str]) -> None:
        self.emails = emails

    def merge_into(self, survivor_id: UUID) -> None:
        """The customer was merged into `survivor_id`; idempotent."""
        if self.survivor_id != survivor_id:
            self._merge_into(survivor_id=survivor_id)

    @event("MergedInto")
    def _merge_into(self, survivor_id: UUID) -> None:
        self.survivor_id = survivor_id
        self.emails = []

    def erase(self) -> None:
        """The customer was erased; idempotent."""
        if not self.erased:
            self._erase()

    @event("Erased")
    def _erase(self) -> None:
        self.emails = []
        self.erased = True
