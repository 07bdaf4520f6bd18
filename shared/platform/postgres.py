"""PostgreSQL event stores that several processes may open for the first time at once.

`eventsourcing` creates its tables, types and functions when an application opens its
store. In a fresh database the API, the relay and the consumers of a service all do that
at the same moment, and PostgreSQL does not serialise concurrent `CREATE OR REPLACE
FUNCTION` (or `CREATE TYPE`): the loser fails with a unique violation on the system
catalogue and the process dies at start. Here creation runs under a transaction-level
advisory lock, and a creation that still loses a race is retried.

`persistence_env` names this module as the `PERSISTENCE_MODULE` of PostgreSQL stores; it
holds exactly one infrastructure factory, as `eventsourcing` requires.
"""

from __future__ import annotations

import time
from typing import Any

import eventsourcing.postgres as es
from eventsourcing.persistence import IntegrityError, InternalError, OperationalError

SCHEMA_LOCK = 0x63726D736368656D
"""Advisory lock key ("crmschem") held while a store's schema is created."""
ATTEMPTS = 8


class _SerialisedCreation:
    """Mixin for `eventsourcing`'s PostgreSQL recorders: create the schema one process at a time."""

    def create_table(self) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                super().create_table()  # type: ignore[misc]
                return
            except (IntegrityError, InternalError, OperationalError):
                if attempt == ATTEMPTS:
                    raise
                time.sleep(0.1 * attempt)  # another process is creating the same schema

    def _create_table(self, curs: Any) -> None:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        super()._create_table(curs)  # type: ignore[misc]


class AggregateRecorder(_SerialisedCreation, es.PostgresAggregateRecorder):
    """`eventsourcing`'s aggregate recorder, creating its schema one process at a time."""


class ApplicationRecorder(_SerialisedCreation, es.PostgresApplicationRecorder):
    """`eventsourcing`'s application recorder, creating its schema one process at a time."""


class TrackingRecorder(_SerialisedCreation, es.PostgresTrackingRecorder):
    """`eventsourcing`'s tracking recorder, creating its schema one process at a time."""


class ProcessRecorder(_SerialisedCreation, es.PostgresProcessRecorder):
    """`eventsourcing`'s process recorder, creating its schema one process at a time."""


class Factory(es.PostgresFactory):
    """The PostgreSQL infrastructure factory with the recorders above."""

    aggregate_recorder_class = AggregateRecorder
    application_recorder_class = ApplicationRecorder
    tracking_recorder_class = TrackingRecorder
    process_recorder_class = ProcessRecorder
