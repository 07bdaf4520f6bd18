"""The customer service's `eventsourcing` application: one method per command.

Each command loads the customer, lets the aggregate decide, and saves the new events
atomically. Optimistic concurrency makes a stale decision fail with `StaleVersion`
instead of silently overwriting a concurrent one. A command sent without
`expected_version` asked for "whatever the customer is now", so when another writer
gets there first it is decided again on the newer version (`_command`), not refused.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper
from eventsourcing.utils import EnvType

from services.customer.directory import CustomerDirectory, CustomerSummary, DuplicateCandidate
from services.customer.domain import PII_FIELDS, CannotMergeIntoSelf, Customer, CustomerNotFound, StaleVersion
from shared.platform.concurrency import save_or_stale
from shared.platform.keystore import KeyStore, keystore_for
from shared.platform.pii import PiiMapper

T = TypeVar("T")
ATTEMPTS = 30
"""Tries of a command without `expected_version` that keeps losing races (each loss means another write landed)."""


class Recorded(NamedTuple):
    """A recorded interaction and the customer version that holds it."""

    interaction_id: UUID
    version: int


class CustomerApplication(Application[UUID]):
    """Customer data management: registration, profile, contact points, consent, merge, erasure."""

    name = "customers"
    is_snapshotting_enabled = True  # only erasure takes snapshots: see `erase`

    def __init__(self, env: EnvType | None = None, *, default_region: str | None = None) -> None:
        self.keys: KeyStore | None = None
        super().__init__(env)
        self.default_region = default_region
        self.directory = CustomerDirectory(self, default_region=default_region)
        self._stripes = [threading.Lock() for _ in range(64)]

    def register(
        self,
        *,
        name: str,
        emails: Iterable[str],
        phones: Iterable[str],
        address: str | Mapping[str, Any] | None = None,
        source: str = "api",
        tags: Iterable[str] = (),
        consent: dict[str, bool] | None = None,
        customer_id: UUID | None = None,
    ) -> UUID:
        """Register a customer; with a known `customer_id` this is idempotent (retries, lead conversion)."""
        if customer_id is not None and customer_id in self.repository:
            return customer_id
        customer = Customer.register(
            name=name,
            emails=emails,
            phones=phones,
            address=address,
            source=source,
            tags=tags,
            consent=consent,
            region=self.default_region,
            customer_id=customer_id,
        )
        try:
            self._save(customer)
        except StaleVersion:
            if customer_id is None:
                raise
        return customer.id

    def update_profile(
        self,
        customer_id: UUID,
        *,
        expected_version: int | None,
        name: str | None = None,
        address: str | Mapping[str, Any] | None = None,
        source: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> int:
        """Change profile fields (`address=""` clears it); returns the new version."""
        return self._command(
            customer_id,
            expected_version,
            lambda c: c.update_profile(name=name, address=address, source=source, tags=tags),
        )[1]

    def add_contact_point(self, customer_id: UUID, *, expected_version: int | None, kind: str, value: str) -> int:
        """Add an email or phone; returns the new version."""
        return self._command(
            customer_id, expected_version, lambda c: c.add_contact_point(kind, value, self.default_region)
        )[1]

    def remove_contact_point(self, customer_id: UUID, *, expected_version: int | None, kind: str, value: str) -> int:
        """Remove an email or phone; returns the new version."""
        return self._command(
            customer_id, expected_version, lambda c: c.remove_contact_point(kind, value, self.default_region)
        )[1]

    def record_interaction(
        self,
        customer_id: UUID,
        *,
        expected_version: int | None,
        kind: str,
        summary: str,
        occurred_at: datetime,
        recorded_by: str,
    ) -> Recorded:
        """Record a call, email, meeting, visit or note; returns its id and the version that holds it."""
        return Recorded(
            *self._command(
                customer_id, expected_version, lambda c: c.record_interaction(kind, summary, occurred_at, recorded_by)
            )
        )

    def change_consent(self, customer_id: UUID, *, expected_version: int | None, channel: str, granted: bool) -> int:
        """Grant or withdraw consent on one channel; returns the (possibly unchanged) version."""
        return self._command(customer_id, expected_version, lambda c: c.change_consent(channel, granted))[1]

    def merge(self, *, survivor_id: UUID, merged_id: UUID, expected_versions: dict[UUID, int] | None = None) -> None:
        """Merge a duplicate into the survivor; both aggregates are saved in one transaction."""
        if survivor_id == merged_id:
            raise CannotMergeIntoSelf(survivor_id)
        expected = expected_versions or {}
        survivor = self._load(survivor_id, expected.get(survivor_id))
        merged = self._load(merged_id, expected.get(merged_id))
        survivor.absorb(merged)
        self._save(survivor, merged)

    def erase(self, customer_id: UUID) -> None:
        """Erase the customer (GDPR) and shred their key; safe to repeat after a crash.

        The snapshot taken after the `Erased` event holds no personal data, so the
        customer still loads once the key is gone and the earlier events read as empty.
        """
        customer = self.get(customer_id)
        customer.erase()
        self._save(customer)
        with contextlib.suppress(IntegrityError):  # an earlier attempt already took it
            self.take_snapshot(customer_id)
        self.pii_keys.shred(customer_id)

    @property
    def pii_keys(self) -> KeyStore:
        """The per-customer keys that seal personal data in the stored events."""
        assert self.keys is not None, "set by construct_mapper"
        return self.keys

    def construct_mapper(self) -> Mapper[UUID]:
        """A mapper that seals each customer's personal data with their own key."""
        self.keys = keystore_for(self.env.get)
        return PiiMapper(self.construct_transcoder(), self.keys, PII_FIELDS)

    def get(self, customer_id: UUID) -> Customer:
        """The customer's current state, replayed from its events."""
        try:
            customer: Customer = self.repository.get(customer_id)
        except AggregateNotFoundError:
            raise CustomerNotFound(customer_id) from None
        return customer

    def search(
        self,
        *,
        text: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> list[CustomerSummary]:
        """Active customers matching every given criterion, ordered by name, after the cursor `after`."""
        return self.directory.search(text=text, email=email, phone=phone, tag=tag, limit=limit, after=after)

    def find_duplicates(self, customer_id: UUID, name_threshold: float = 0.85) -> list[DuplicateCandidate]:
        """Customers that look like the same person, best match first."""
        self.get(customer_id).ensure_active()
        return self.directory.find_duplicates(customer_id, name_threshold=name_threshold)

    def _command(
        self, customer_id: UUID, expected_version: int | None, decide: Callable[[Customer], T]
    ) -> tuple[T, int]:
        """Load, let the aggregate decide, save; returns the decision's result and the version written.

        With `expected_version` a lost race is the caller's `StaleVersion` (409). Without it,
        the command is decided again on the newer version, after a short random pause so
        that writers racing on one customer spread out, up to `ATTEMPTS` times.
        """
        for attempt in range(1, ATTEMPTS + 1):
            with self._writing(customer_id):
                customer = self._load(customer_id, expected_version)
                result = decide(customer)
                try:
                    self._save(customer)
                except StaleVersion:
                    if expected_version is not None or attempt == ATTEMPTS:
                        raise
                else:
                    return result, customer.version
            time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")  # pragma: no cover

    def _writing(self, customer_id: UUID) -> threading.Lock:
        """The lock that serialises this process's commands on one customer (striped by id).

        Requests racing on one customer inside one API process wait for each other instead
        of losing the optimistic-concurrency race; the retry in `_command` is then only for
        writers in other processes.
        """
        return self._stripes[customer_id.int % len(self._stripes)]

    def _load(self, customer_id: UUID, expected_version: int | None) -> Customer:
        """Load for a command, refusing a decision taken on another version."""
        customer = self.get(customer_id)
        if expected_version is not None and expected_version != customer.version:
            raise StaleVersion(expected_version, customer.version, customer_id)
        return customer

    def _save(self, *customers: Customer) -> None:
        """Save atomically; if a concurrent writer got there first, this decision is stale."""
        save_or_stale(self, customers, StaleVersion)
