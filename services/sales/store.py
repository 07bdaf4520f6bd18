"""The persistence side of the sales application: env-chosen store, PII sealing, load and save.

Every command saves its events atomically; a decision taken on a stale version fails
with `StaleVersion` (HTTP 409). Queries go to `views`, which follow the notification log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, Mapper, Transcoding

from services.sales import access
from services.sales.domain import PII_FIELDS, NotFound, NotOwner, StaleVersion
from services.sales.settings import SalesSettings
from services.sales.views import SalesViews
from shared.platform.auth import Principal
from shared.platform.concurrency import save_or_stale
from shared.platform.keystore import KeyStore, keystore_for
from shared.platform.pii import PiiMapper

A = TypeVar("A", bound=Aggregate)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC (tests inject their own)."""
    return datetime.now(UTC)


class DateAsISO(Transcoding):
    """Stores `datetime.date` values as ISO text."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SalesStore(Application[UUID]):
    """Persistence and the generic load/save rules every sales command uses."""

    name = "sales"

    def __init__(
        self, env: dict[str, str] | None = None, *, settings: SalesSettings | None = None, clock: Clock = utc_now
    ) -> None:
        self.keys: KeyStore | None = None
        super().__init__(env)
        self.settings = settings or SalesSettings()
        self.clock = clock
        self.views = SalesViews(self)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings plus dates (close dates, valid-until)."""
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_mapper(self) -> Mapper[UUID]:
        """A mapper that seals each lead's (and known customer's) personal data with its own key."""
        self.keys = keystore_for(self.env.get)
        return PiiMapper(self.construct_transcoder(), self.keys, PII_FIELDS)

    @property
    def pii_keys(self) -> KeyStore:
        """The per-subject keys that seal personal data in the stored events."""
        assert self.keys is not None, "set by construct_mapper"
        return self.keys

    def now(self) -> datetime:
        """The current time in UTC from the injected clock."""
        return self.clock().astimezone(UTC)

    def load(self, kind: type[A], record_id: UUID, expected_version: int | None = None) -> A:
        """The record of `kind`, refusing a decision taken on another version."""
        try:
            record: Aggregate = self.repository.get(record_id)
        except AggregateNotFoundError:
            raise NotFound(kind.__name__.lower(), record_id) from None
        if not isinstance(record, kind):
            raise NotFound(kind.__name__.lower(), record_id)
        if expected_version is not None and expected_version != record.version:
            raise StaleVersion(expected_version, record.version, record_id)
        return record

    def load_for(self, kind: type[A], record_id: UUID, user: Principal, expected_version: int | None = None) -> A:
        """Load a record `user` may change (else `NotOwner`, or `NotFound` if they may not even see it)."""
        record = self.load(kind, record_id, expected_version)
        owner = getattr(record, "owner", None)
        views = self.views.catch_up()
        if not access.can_see(views, user, owner):
            row = views.rows.get(record_id)
            if row is not None and access.can_read(views, user, row, self.settings.capturer_keeps_access):
                raise NotOwner(user.subject, record_id)  # they may read it (they captured it), not change it
            raise NotFound(kind.__name__.lower(), record_id)
        access.ensure_can_change(self.views, user, owner, record_id)
        return record

    def read_for(self, kind: type[A], record_id: UUID, user: Principal) -> A:
        """Load a record `user` may see (else `NotFound`: others' records are not disclosed)."""
        record = self.load(kind, record_id)
        if not access.can_see(self.views.catch_up(), user, getattr(record, "owner", None)):
            raise NotFound(kind.__name__.lower(), record_id)
        return record

    def exists(self, record_id: UUID) -> bool:
        """True if any event of `record_id` is stored."""
        return bool(self.recorder.select_events(record_id, limit=1))

    def store(self, *records: Aggregate) -> None:
        """Save atomically; if a concurrent writer got there first, this decision is stale."""
        save_or_stale(self, records, StaleVersion)


def as_dict(record: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """Selected attributes of an aggregate, for a response body."""
    return {f: getattr(record, f) for f in fields}
