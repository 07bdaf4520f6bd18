"""`crm republish SERVICE [--from N] [--to N]`: re-emit a service's public history to Kafka.

After a topic was lost (deleted, truncated, a cluster rebuilt) the events are still in
the service's event store. Republishing reads the store's notification log in order and
publishes every public event again through the service's own relay (its `build_relay`,
its mapping, `Relay.envelope`, `KafkaPublisher`), so each record carries the very same
event id (`event_id(source, aggregate, version)`), `sequence`, key, value and CloudEvents
headers as the first time: consumers dedupe by event id and a replay changes nothing they
built. Only the trace-context headers differ: each publication is a new producer span.

The relay's tracking position is never read for the range nor written: a running relay
keeps publishing new events undisturbed, and the range ends at the store head as it was
when the command started (or `--to`). Exit codes: 0 done, 2 bad arguments (unknown
service, a position beyond the head, invalid settings), 1 the store or Kafka failed
(the message says from which position to resume).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from faststream.kafka import KafkaBroker
from pydantic import ValidationError
from rich.progress import Progress

from crm.progress import progress_bar
from services.customer.settings import CustomerSettings
from services.marketing.settings import MarketingSettings
from services.sales.settings import SalesSettings
from services.social.settings import SocialSettings
from services.support.settings import SupportSettings
from shared.events.topics import CUSTOMER, MARKETING, SALES, SOCIAL, SUPPORT, TopicSpec
from shared.platform.kafka import KafkaSettings, make_broker
from shared.platform.outbox import Batch, Publish, Relay
from shared.platform.relaying import KafkaPublisher, RelayProcessSettings
from shared.platform.topicadmin import describe_topics

OK, STORE_OR_KAFKA_FAILED, BAD_ARGUMENTS = 0, 1, 2
"""Exit codes of `crm republish`."""


@dataclass(frozen=True)
class Source:
    """A service whose history can be republished: its settings, its relay module and its stream."""

    settings: Callable[[], RelayProcessSettings]
    relay_module: str
    stream: str

    def build_relay(self, settings: RelayProcessSettings, publish: Publish) -> Relay:
        """The service's own relay (imported on demand: only the named service's code is loaded)."""
        build: Callable[[Any, Publish], Relay] = importlib.import_module(self.relay_module).build_relay
        return build(settings, publish)


SOURCES: dict[str, Source] = {
    "customer": Source(CustomerSettings, "services.customer.relay", CUSTOMER),
    "sales": Source(SalesSettings, "services.sales.relay", SALES),
    "marketing": Source(MarketingSettings, "services.marketing.relay", MARKETING),
    "support": Source(SupportSettings, "services.support.relay", SUPPORT),
    "social": Source(SocialSettings, "services.social.relay", SOCIAL),
}
"""Every service with an event store and a relay; each `services/<svc>/relay.py` has `build_relay`."""


@dataclass
class Summary:
    """What a republish did (the `--json` output)."""

    service: str
    start: int
    stop: int
    published: int = 0
    private_skipped: int = 0
    seconds: float = 0.0
    last: int | None = None
    """Last notification id whose events Kafka acknowledged (None before the first batch)."""

    def as_json(self) -> dict[str, Any]:
        """Script-friendly shape; `from`/`to` as on the command line."""
        data = asdict(self)
        data["from"], data["to"] = data.pop("start"), data.pop("stop")
        data["events_per_second"] = round(self.published / self.seconds, 1) if self.seconds else 0.0
        return data


async def republish_range(
    relay: Relay, summary: Summary, on_batch: Callable[[Batch, int], None] | None = None
) -> Summary:
    """Publish the public events of notifications `summary.start`..`summary.stop`, in order.

    Reading the next batch from the store overlaps with waiting for Kafka's acks of the
    current one; a batch is counted (and `summary.last` moved) only once acknowledged.
    `on_batch(batch, notification ids covered)` reports progress.
    """
    started = time.perf_counter()
    position = summary.start
    reading: asyncio.Future[Batch] | None = asyncio.ensure_future(
        asyncio.to_thread(relay.batch, position, summary.stop)
    )
    try:
        while reading is not None:
            batch = await reading
            reading = None
            if batch.last is None:
                break
            if batch.last < summary.stop:
                reading = asyncio.ensure_future(asyncio.to_thread(relay.batch, batch.last + 1, summary.stop))
            if batch.envelopes:
                await relay.publish(batch.envelopes)
            summary.published += len(batch.envelopes)
            summary.private_skipped += batch.private
            if on_batch is not None:
                on_batch(batch, batch.last - position + 1)
            position, summary.last = batch.last + 1, batch.last
    finally:
        if reading is not None:
            await asyncio.gather(reading, return_exceptions=True)
        summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _fail(code: int, message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _service(name: str) -> str:
    if name not in SOURCES:
        raise typer.BadParameter(f"unknown service {name!r}; one of: {', '.join(SOURCES)}")
    return name


def _settings(service: str) -> RelayProcessSettings:
    try:
        return SOURCES[service].settings()
    except ValidationError as exc:
        raise _fail(BAD_ARGUMENTS, f"invalid CRM_{service.upper()}_* settings: {exc}") from exc


def _open_relay(service: str, settings: RelayProcessSettings, publish: Publish) -> tuple[Relay, int]:
    """The service's relay over its store and the store head; a missing SQLite store is never created."""
    store = settings.store
    if store.backend == "sqlite" and not Path(store.sqlite_path).exists():
        raise _fail(STORE_OR_KAFKA_FAILED, f"no {service} event store at {store.sqlite_path} (check CRM_*_STORE__*)")
    try:
        relay = SOURCES[service].build_relay(settings, publish)
        return relay, relay.head()
    except Exception as exc:
        raise _fail(STORE_OR_KAFKA_FAILED, f"{service} event store unreadable: {type(exc).__name__}: {exc}") from exc


def _range(start: int, to: int | None, head: int) -> int:
    """The last notification to republish; exits 2 for a range outside the store."""
    if start > head:
        raise _fail(BAD_ARGUMENTS, f"--from {start} is beyond the store head {head}")
    if to is not None and to > head:
        raise _fail(BAD_ARGUMENTS, f"--to {to} is beyond the store head {head}")
    if to is not None and to < start:
        raise _fail(BAD_ARGUMENTS, f"--to {to} is before --from {start}")
    return head if to is None else to


async def _publish_all(
    kafka: KafkaSettings, broker: KafkaBroker, relay: Relay, stream: str, summary: Summary, progress: Progress
) -> None:
    """Check the stream exists (never let Kafka auto-create it with default configs), then republish."""
    topics = await describe_topics(kafka, [TopicSpec(stream)])
    if not topics[0].exists:
        raise RuntimeError(f"topic {topics[0].name} does not exist; run `crm topics ensure` first")
    task = progress.add_task(f"republishing {summary.service}", total=summary.stop - summary.start + 1)
    try:
        await asyncio.wait_for(broker.start(), kafka.request_timeout_ms / 1000)
        await republish_range(relay, summary, lambda _batch, covered: progress.advance(task, covered))
    finally:
        await broker.stop()


def republish(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SOURCES)}.", callback=_service)],
    start: Annotated[int, typer.Option("--from", min=1, help="First notification id (default: the first).")] = 1,
    to: Annotated[int | None, typer.Option("--to", min=1, help="Last notification id (default: the head).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Notifications per batch.")] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary for scripts.")] = False,
) -> None:
    """Re-emit a service's public events from its event store to Kafka as its relay did (same ids, keys, values)."""
    settings = _settings(service)
    kafka = KafkaSettings()
    broker = make_broker(kafka, client_id="crm-republish")
    relay, head = _open_relay(service, settings, KafkaPublisher(broker, kafka))
    relay.batch_size = batch_size
    if head == 0 and start == 1 and to is None:
        summary = Summary(service, 1, 0)
    else:
        summary = Summary(service, start, _range(start, to, head))
        try:
            with progress_bar(quiet=as_json, unit="ev") as progress:
                asyncio.run(_publish_all(kafka, broker, relay, SOURCES[service].stream, summary, progress))
        except Exception as exc:
            resume = (summary.last or summary.start - 1) + 1
            if as_json:
                typer.echo(json.dumps(summary.as_json() | {"error": f"{type(exc).__name__}: {exc}"}, indent=2))
            raise _fail(
                STORE_OR_KAFKA_FAILED,
                f"republish of {service} stopped: {type(exc).__name__}: {exc}; "
                f"acknowledged up to notification {summary.last or 'none'}, resume with --from {resume}",
            ) from exc
    if as_json:
        typer.echo(json.dumps(summary.as_json(), indent=2))
        return
    rate = summary.published / summary.seconds if summary.seconds else 0.0
    typer.echo(
        f"{service}: notifications {summary.start}..{summary.stop}: {summary.published} published, "
        f"{summary.private_skipped} private skipped in {summary.seconds:.1f}s ({rate:,.0f} events/s)"
    )
