"""`crm status`: is every event published, and is every consumer keeping up?

Operators need one answer to "is the pipeline healthy?": per service, how far the
relay's published position trails the event store's head (unpublished events); per
consumer group and partition, how far the committed offset trails the end of the
topic (unconsumed events); and whether Kafka and each store answer at all. The
exit code lets scripts and probes act on it: 0 healthy, 1 behind beyond thresholds,
2 something unreachable.

Stores are read through `eventsourcing`'s own recorders, configured exactly as each
service configures them (`CRM_<SVC>_STORE__*` over the service's default store), so
this module never imports a service's application.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from eventsourcing.persistence import InfrastructureFactory, OperationalError, ProgrammingError
from eventsourcing.utils import Environment
from pymongo import AsyncMongoClient
from rich.console import Console
from rich.table import Table

from services.analytics.generations import Generations
from services.analytics.settings import AnalyticsSettings
from services.customer.settings import CustomerSettings
from services.marketing.settings import MarketingSettings
from services.sales.settings import SalesSettings
from services.social.settings import SocialSettings
from services.support.settings import SupportSettings
from shared.events.topics import CONSUMER_GROUPS
from shared.platform.eventstore import EventStoreSettings, persistence_env
from shared.platform.kafka import KafkaSettings

HEALTHY, BEHIND, UNREACHABLE = 0, 1, 2
"""Exit codes of `crm status`."""
ANALYTICS_GROUP = "analytics"
STORE_TIMEOUT_MS = 10_000
"""A read store that accepts the connection but does not answer within this is reported failing, not waited on."""
"""The projector's group of generation 0 (later generations consume as `analytics-g<N>`)."""


@dataclass(frozen=True)
class StoreSpec:
    """Where a service keeps its events: its application's name and default store."""

    service: str
    app_name: str
    default: EventStoreSettings


STORES = (
    StoreSpec("customer", "customers", CustomerSettings.model_fields["store"].default),
    StoreSpec("sales", "sales", SalesSettings.model_fields["store"].default),
    StoreSpec("marketing", "marketing", MarketingSettings.model_fields["store"].default),
    StoreSpec("support", "support", SupportSettings.model_fields["store"].default),
    StoreSpec("social", "social", SocialSettings.model_fields["store"].default),
)
"""Every service with an event store and a relay (names as in each `application.py`)."""


@dataclass(frozen=True)
class StoreStatus:
    """One service's store head against its relay's published position."""

    service: str
    backend: str
    head: int = 0
    published: int = 0
    present: bool = True
    error: str | None = None

    @property
    def unpublished(self) -> int:
        """Events in the store that Kafka has not acknowledged yet."""
        return max(self.head - self.published, 0)


@dataclass(frozen=True)
class PartitionLag:
    """One consumer group's progress on one partition."""

    group: str
    topic: str
    partition: int
    end: int
    committed: int

    @property
    def lag(self) -> int:
        """Records on the partition the group has not committed yet."""
        return max(self.end - self.committed, 0)


@dataclass(frozen=True)
class ProjectionStatus:
    """One analytics projection generation: its consumer group's position, lag and last event."""

    generation: int
    status: str
    database: str
    group: str
    position: int
    """Records the generation's group has committed, over every partition."""
    lag: int
    last_event_at: str | None
    """Kafka timestamp of the newest record the group has committed (UTC)."""


@dataclass
class StatusReport:
    """Everything `crm status` found, and the verdict on it."""

    kafka_ok: bool
    kafka_error: str | None = None
    stores: list[StoreStatus] = field(default_factory=list)
    lags: list[PartitionLag] = field(default_factory=list)
    projections: list[ProjectionStatus] = field(default_factory=list)
    projections_error: str | None = None
    read_store: str | None = None
    """What answers on the read store's URL, e.g. "FerretDB v1.24.2-crm.1" (our patched build)."""

    def exit_code(self, max_unpublished: int, max_lag: int) -> int:
        """2 if Kafka or a store is unreachable, 1 if anything is behind its threshold, else 0."""
        if not self.kafka_ok or any(s.error for s in self.stores) or self.projections_error:
            return UNREACHABLE
        if any(s.unpublished > max_unpublished for s in self.stores) or any(p.lag > max_lag for p in self.lags):
            return BEHIND
        return HEALTHY

    def as_json(self, max_unpublished: int, max_lag: int) -> dict[str, Any]:
        """A stable, script-friendly shape (computed fields included)."""
        return {
            "exit_code": self.exit_code(max_unpublished, max_lag),
            "kafka": {"ok": self.kafka_ok, "error": self.kafka_error},
            "stores": [asdict(s) | {"unpublished": s.unpublished} for s in self.stores],
            "consumers": [asdict(p) | {"lag": p.lag} for p in self.lags],
            "projections": [asdict(p) for p in self.projections],
            "projections_error": self.projections_error,
            "read_store": self.read_store,
        }


def store_settings(spec: StoreSpec, env: Mapping[str, str]) -> EventStoreSettings:
    """The service's store as its settings class would read it: `CRM_<SVC>_STORE__*` over the default."""
    prefix = f"CRM_{spec.service.upper()}_STORE__"
    overrides = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    return EventStoreSettings.model_validate(spec.default.model_dump() | overrides)


def read_store(spec: StoreSpec, store: EventStoreSettings) -> StoreStatus:
    """Head and relay position of one store; a missing SQLite file is reported, never created."""
    if store.backend == "sqlite" and not Path(store.sqlite_path).exists():
        return StoreStatus(spec.service, store.backend, present=False)
    try:
        env = persistence_env(store) | {"CREATE_TABLE": "false"}
        factory = InfrastructureFactory.construct(Environment(spec.app_name, env))
        try:
            head = _unless_missing(lambda: factory.application_recorder().max_notification_id())
            published = _unless_missing(lambda: factory.tracking_recorder().max_tracking_id(f"relay:{spec.service}"))
        finally:
            factory.close()
    except Exception as exc:  # noqa: BLE001 - any failure to read means "unreachable", reported as such
        return StoreStatus(spec.service, store.backend, error=f"{type(exc).__name__}: {exc}"[:300])
    return StoreStatus(spec.service, store.backend, head=head, published=published)


def _unless_missing(read: Callable[[], int | None]) -> int:
    """A position, or 0 when its table does not exist yet (the relay creates its table on first run)."""
    try:
        return read() or 0
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return 0
        raise


async def consumer_lags(kafka: KafkaSettings, groups: tuple[str, ...] = CONSUMER_GROUPS) -> list[PartitionLag]:
    """Per group and partition it committed on: the topic's end offset against the committed offset."""
    servers = kafka.bootstrap_servers.split(",")
    admin = AIOKafkaAdminClient(
        bootstrap_servers=servers, request_timeout_ms=kafka.request_timeout_ms, **kafka.client_options()
    )
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, **kafka.client_options())
    try:
        await admin.start()
        await consumer.start()
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in groups:
            offsets = await admin.list_consumer_group_offsets(kafka.group(group))
            committed[group] = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
        partitions = {tp for offsets in committed.values() for tp in offsets}
        ends = await consumer.end_offsets(list(partitions)) if partitions else {}
        return sorted(
            (
                PartitionLag(group, tp.topic, tp.partition, ends[tp], offset)
                for group, offsets in committed.items()
                for tp, offset in offsets.items()
            ),
            key=lambda p: (p.group, p.topic, p.partition),
        )
    finally:
        await consumer.stop()
        await admin.close()


LagReader = Callable[[KafkaSettings], Awaitable[list[PartitionLag]]]


async def projection_lags(
    kafka: KafkaSettings, env: Mapping[str, str]
) -> tuple[list[ProjectionStatus], list[PartitionLag]]:
    """The active, building and ready generations (position, lag, last consumed event), and the active group's lags."""
    url = mongo_url(env)
    settings = AnalyticsSettings.model_construct(  # only the names Generations needs, from `env`
        mongo_url=url,
        database=env.get("CRM_ANALYTICS_DATABASE") or AnalyticsSettings.model_fields["database"].default,
        group_id=env.get("CRM_ANALYTICS_GROUP_ID") or ANALYTICS_GROUP,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url, serverSelectionTimeoutMS=5_000, socketTimeoutMS=STORE_TIMEOUT_MS, tz_aware=True
    )
    try:
        generations = await Generations(client, settings).all()
    finally:
        await client.close()
    shown = [g for g in generations if g.status in ("active", "building", "ready")]
    lags = await consumer_lags(kafka, tuple(g.group for g in shown))
    rows = []
    for g in shown:
        mine = [p for p in lags if p.group == g.group]
        last = await _last_consumed(kafka, mine)
        position, behind = sum(p.committed for p in mine), sum(p.lag for p in mine)
        rows.append(ProjectionStatus(g.number, g.status, g.database, g.group, position, behind, last))
    active = next(g.group for g in shown if g.status == "active")
    return rows, [p for p in lags if p.group == active]


def mongo_url(env: Mapping[str, str]) -> str:
    """The analytics read store's URL, as the analytics service reads it."""
    return env.get("CRM_ANALYTICS_MONGO_URL") or env.get("CRM_MONGO_URL") or "mongodb://127.0.0.1:27017/"


def describe_read_store(build_info: Mapping[str, Any]) -> str:
    """FerretDB answers `buildInfo` with its own version beside the MongoDB one it emulates.

    Operators need to see that it is our patched build (`v1.24.2-crm.1`): an unpatched
    FerretDB scans a table on every lookup and hangs on large bulks.
    """
    if "ferretdbVersion" in build_info:
        return f"FerretDB {build_info['ferretdbVersion']}"
    return f"MongoDB {build_info.get('version', 'unknown')}"


async def read_store_version(env: Mapping[str, str]) -> str:
    """`describe_read_store` of the server behind the analytics read store's URL."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url(env), serverSelectionTimeoutMS=5_000, socketTimeoutMS=STORE_TIMEOUT_MS
    )
    try:
        return describe_read_store(await client.admin.command("buildInfo"))
    finally:
        await client.close()


async def _last_consumed(kafka: KafkaSettings, lags: list[PartitionLag]) -> str | None:
    """The newest Kafka timestamp among the last committed record of each partition (None before any).

    The consumer is only built when there is a record to read: aiokafka raises
    CancelledError from `stop()` on a consumer stopped right after its start.
    """
    partitions = {TopicPartition(p.topic, p.partition): p.committed for p in lags if p.committed > 0}
    if not partitions:
        return None
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers.split(","), enable_auto_commit=False, **kafka.client_options()
    )
    await consumer.start()
    try:
        consumer.assign(list(partitions))
        for tp, committed in partitions.items():
            consumer.seek(tp, committed - 1)
        newest, pending = 0, set(partitions)
        while pending:
            batch = await consumer.getmany(*pending, timeout_ms=2_000, max_records=len(pending))
            if not batch:
                break
            for tp, records in batch.items():
                newest = max([newest, *(r.timestamp for r in records)])
                pending.discard(tp)
    finally:
        await consumer.stop()
    return datetime.fromtimestamp(newest / 1000, UTC).isoformat() if newest else None


def projections(kafka: KafkaSettings, env: Mapping[str, str]) -> tuple[list[ProjectionStatus], list[PartitionLag]]:
    """What `crm status` shows about the analytics projection generations, and the active group's lags."""
    return asyncio.run(projection_lags(kafka, env))


def store_version(env: Mapping[str, str]) -> str:
    """What `crm status` shows about the read store's server."""
    return asyncio.run(read_store_version(env))


StoreVersionReader = Callable[[Mapping[str, str]], str]


ProjectionReader = Callable[[KafkaSettings, Mapping[str, str]], tuple[list[ProjectionStatus], list[PartitionLag]]]


def collect(
    kafka: KafkaSettings,
    env: Mapping[str, str],
    *,
    lags: LagReader = consumer_lags,
    stores: tuple[StoreSpec, ...] = STORES,
    timeout: float = 20.0,
    generations: ProjectionReader | None = projections,
    read_store_server: StoreVersionReader | None = store_version,
) -> StatusReport:
    """Read every store, every group's lag and the projection generations; outages are reported, not raised.

    Only the active generation's group counts toward the verdict: a retired generation's
    group stops consuming on purpose, and a building one is expected to lag.
    """
    report = StatusReport(kafka_ok=True, stores=[read_store(s, store_settings(s, env)) for s in stores])
    try:
        report.lags = asyncio.run(asyncio.wait_for(lags(kafka), timeout))
    except Exception as exc:  # noqa: BLE001 - connection, timeout or protocol errors all mean "unreachable"
        report.kafka_ok, report.kafka_error = False, f"{type(exc).__name__}: {exc}"[:300]
        return report
    if generations is None:
        return report
    try:
        report.projections, active = generations(kafka, env)
    except Exception as exc:  # noqa: BLE001 - MongoDB or Kafka unreachable: reported
        report.projections_error = f"{type(exc).__name__}: {exc}"[:300]
        return report
    report.lags = [p for p in report.lags if p.group != ANALYTICS_GROUP] + active
    if read_store_server is not None:
        try:
            report.read_store = read_store_server(env)
        except Exception as exc:  # noqa: BLE001 - MongoDB unreachable: reported
            report.projections_error = f"{type(exc).__name__}: {exc}"[:300]
    return report


def render(report: StatusReport, console: Console, max_unpublished: int, max_lag: int) -> None:
    """Human-readable tables; rows beyond a threshold in red."""
    stores = Table(title="Event stores and relays")
    for column in ("service", "backend", "head", "published", "unpublished", "state"):
        stores.add_column(column)
    for s in report.stores:
        state = s.error or ("no store yet" if not s.present else "ok")
        style = "red" if s.error or s.unpublished > max_unpublished else None
        stores.add_row(s.service, s.backend, str(s.head), str(s.published), str(s.unpublished), state, style=style)
    console.print(stores)
    groups = Table(title="Consumer groups")
    for column in ("group", "topic", "partition", "end", "committed", "lag"):
        groups.add_column(column)
    for p in report.lags:
        style = "red" if p.lag > max_lag else None
        groups.add_row(p.group, p.topic, str(p.partition), str(p.end), str(p.committed), str(p.lag), style=style)
    console.print(groups)
    generations = Table(title="Analytics projection generations")
    for column in ("generation", "status", "group", "position", "lag", "last event"):
        generations.add_column(column)
    for g in report.projections:
        style = "red" if g.status == "active" and g.lag > max_lag else None
        row = (str(g.generation), g.status, g.group, str(g.position), str(g.lag), g.last_event_at or "")
        generations.add_row(*row, style=style)
    console.print(generations)
    if report.projections_error:
        console.print(f"Projections: {report.projections_error}", style="red")
    console.print(f"Kafka: {'ok' if report.kafka_ok else report.kafka_error}")
    if report.read_store:
        console.print(f"Read store: {report.read_store}")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    max_unpublished: Annotated[int, typer.Option(help="Unpublished events per service tolerated.")] = 0,
    max_lag: Annotated[int, typer.Option(help="Unconsumed records per partition tolerated.")] = 0,
) -> None:
    """Per service: store head vs relay position; per group and partition: lag; Kafka and store health.

    Exit code 0 healthy, 1 behind beyond --max-unpublished/--max-lag, 2 Kafka or a store unreachable.
    """
    console = Console()
    with Console(stderr=True).status("reading stores and consumer groups", spinner="dots"):
        report = collect(KafkaSettings(), os.environ)
    if as_json:
        typer.echo(json.dumps(report.as_json(max_unpublished, max_lag), ensure_ascii=False, indent=2))
    else:
        render(report, console, max_unpublished, max_lag)
    raise typer.Exit(report.exit_code(max_unpublished, max_lag))
