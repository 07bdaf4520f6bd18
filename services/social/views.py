"""The social service's query views: accounts, the calendar, the inbox and the identity indexes.

Built only by following the application's notification log, and caught up before every
query, so every process (API, scheduler, consumers) sees the same state from the shared
store. Each batch reloads the aggregates it touched, so a view row is always exactly an
aggregate's current state (after an erasure, without the personal data).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application

from services.social.accounts import Account
from services.social.domain import handle_key
from services.social.identities import Identity, KnownCustomer
from services.social.interactions import Interaction
from services.social.posts import Post

BATCH_SIZE = 500
_IGNORED = ("Delivery.Accepted",)
"""Receipts no query needs: not worth loading."""
T = TypeVar("T")


class SocialViews:
    """Current accounts, posts, interactions and customers' emails; thread-safe."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._position = 0
        self.accounts: dict[UUID, Account] = {}
        self.posts: dict[UUID, Post] = {}
        self.interactions: dict[UUID, Interaction] = {}
        self.identities: dict[UUID, Identity] = {}
        self._customers: dict[UUID, KnownCustomer] = {}
        self._by_email: dict[str, UUID] = {}
        self._by_platform_post: dict[tuple[UUID, str], UUID] = {}

    def catch_up(self) -> int:
        """Apply everything stored since the last call; returns the position reached."""
        with self._lock:
            while True:
                notes = self.app.recorder.select_notifications(start=self._position + 1, limit=BATCH_SIZE)
                if not notes:
                    return self._position
                touched = (UUID(str(n.originator_id)) for n in notes if not n.topic.endswith(_IGNORED))
                for originator in dict.fromkeys(touched):
                    self._apply(self.app.repository.get(originator))
                self._position = notes[-1].id

    def _apply(self, aggregate: Any) -> None:
        if isinstance(aggregate, Account):
            self.accounts[aggregate.id] = aggregate
        elif isinstance(aggregate, Post):
            self.posts[aggregate.id] = aggregate
            if aggregate.platform_post_id:
                self._by_platform_post[(aggregate.account_id, aggregate.platform_post_id)] = aggregate.id
        elif isinstance(aggregate, Interaction):
            self.interactions[aggregate.id] = aggregate
        elif isinstance(aggregate, Identity):
            self.identities[aggregate.id] = aggregate
        elif isinstance(aggregate, KnownCustomer):
            self._index_customer(aggregate)

    def _index_customer(self, customer: KnownCustomer) -> None:
        old = self._customers.get(customer.id)
        for email in old.emails if old else ():
            if self._by_email.get(email) == customer.customer_id:
                del self._by_email[email]
        self._customers[customer.id] = customer
        for email in customer.emails:
            self._by_email[email] = customer.customer_id

    def select(self, rows: Callable[[SocialViews], Iterable[T]], keep: Callable[[T], bool]) -> list[T]:
        """Rows of one kind that `keep` accepts, after catching up."""
        self.catch_up()
        with self._lock:
            return [row for row in rows(self) if keep(row)]

    def customer_by_email(self, email: str) -> UUID | None:
        """The customer who has this (normalised) email, if any."""
        self.catch_up()
        with self._lock:
            return self._by_email.get(email.strip().lower())

    def post_by_platform_id(self, account_id: UUID, platform_post_id: str) -> UUID | None:
        """Our post that the platform knows as `platform_post_id`."""
        self.catch_up()
        with self._lock:
            return self._by_platform_post.get((account_id, platform_post_id))

    def due_posts(self, now: datetime) -> list[UUID]:
        """Posts the scheduler should publish now, oldest due first."""
        due = self.select(lambda v: v.posts.values(), lambda p: p.is_due(now))
        return [p.id for p in sorted(due, key=lambda p: (p.next_attempt_at or now, str(p.id)))]

    def interactions_of(self, customer_id: UUID) -> list[UUID]:
        """Interactions linked to the customer (the customer → aggregates index for erasure and merge)."""
        rows = self.select(lambda v: v.interactions.values(), lambda i: i.customer_id == customer_id)
        return [i.id for i in rows]

    def identities_of(self, customer_id: UUID) -> list[UUID]:
        """Handles known to belong to the customer."""
        return [i.id for i in self.select(lambda v: v.identities.values(), lambda i: i.customer_id == customer_id)]

    def unlinked_by_email(self, email: str) -> list[UUID]:
        """Unlinked interactions whose author gave `email`."""
        rows = self.select(
            lambda v: v.interactions.values(),
            lambda i: i.customer_id is None and not i.erased and (i.author_email or "").lower() == email.lower(),
        )
        return [i.id for i in rows]

    def unlinked_by_handle(self, platform: str, handle: str) -> list[UUID]:
        """Unlinked interactions by `handle` on `platform`."""
        key = handle_key(handle)
        rows = self.select(
            lambda v: v.interactions.values(),
            lambda i: (
                i.customer_id is None and not i.erased and i.platform == platform and handle_key(i.author_handle) == key
            ),
        )
        return [i.id for i in rows]
