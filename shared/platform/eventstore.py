"""Event-store configuration shared by every service's `eventsourcing` application.

The store is SQLite by default (embedded, one file per service) and PostgreSQL when
configured; the choice is made by environment, as the `eventsourcing` library intends,
so the same application code runs on both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent
from pydantic import BaseModel, SecretStr

from shared.platform import correlation, tracing

MAPPER_TOPIC = "shared.platform.eventstore:CorrelatedMapper"


class EventStoreSettings(BaseModel):
    """Where a service keeps its events; nested into each service's settings."""

    backend: Literal["sqlite", "postgres"] = "sqlite"
    sqlite_path: str = ".local/data/events.sqlite"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "crm"
    postgres_password: SecretStr = SecretStr("")
    postgres_db: str = "crm"
    postgres_schema: str = ""


def persistence_env(store: EventStoreSettings) -> dict[str, str]:
    """The `eventsourcing` environment for `store` (passed as `Application(env=...)`)."""
    env = {"MAPPER_TOPIC": MAPPER_TOPIC}
    if store.backend == "sqlite":
        Path(store.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        env |= {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": store.sqlite_path}
        return env
    env |= {
        "PERSISTENCE_MODULE": "shared.platform.postgres",  # serialises first-time schema creation
        "POSTGRES_HOST": store.postgres_host,
        "POSTGRES_PORT": str(store.postgres_port),
        "POSTGRES_USER": store.postgres_user,
        "POSTGRES_PASSWORD": store.postgres_password.get_secret_value(),
        "POSTGRES_DBNAME": store.postgres_db,
    }
    if store.postgres_schema:
        env["POSTGRES_SCHEMA"] = store.postgres_schema
    return env


class CorrelatedMapper(Mapper[UUID]):
    """Stores the current correlation id and W3C trace context with each new event.

    The id lands in the stored event's state as `correlation_id`, the trace context as
    `traceparent` (and `tracestate`); `eventsourcing` ignores state keys that its event
    methods do not name, so aggregates replay as before, while the relay reads them back
    to set the Kafka headers and continue the trace of the request that caused the event.
    """

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        stamped = vars(domain_event)
        cid = correlation.current()
        if cid is not None and "correlation_id" not in stamped:
            object.__setattr__(domain_event, "correlation_id", cid)
        if not any(name in stamped for name in tracing.FIELDS):
            for name, value in tracing.inject().items():
                object.__setattr__(domain_event, name, value)
        return super().to_stored_event(domain_event)
