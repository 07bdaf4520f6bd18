"""Running a relay as a process: Kafka publishing, tracking storage, signals, metrics."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.utils import Environment
from faststream.kafka import KafkaBroker
from prometheus_client import start_http_server

from shared.events import EventEnvelope
from shared.platform import logs
from shared.platform.eventstore import EventStoreSettings, persistence_env
from shared.platform.kafka import KafkaSettings, make_broker
from shared.platform.leadership import Leadership, leadership_for
from shared.platform.outbox import Publish, Relay, ToPublic, topic_of, wait_unless_stopped

log = logging.getLogger("crm.relay")


class KafkaPublisher:
    """Sends a batch pipelined through FastStream, then waits for every acknowledgement."""

    def __init__(self, broker: KafkaBroker, kafka: KafkaSettings) -> None:
        self.broker = broker
        self.kafka = kafka

    async def __call__(self, envelopes: Sequence[EventEnvelope]) -> None:
        acks = [
            await self.broker.publish(
                envelope.body(),
                self.kafka.topic(topic_of(envelope)),
                key=envelope.key,
                headers=envelope.headers(),
                correlation_id=envelope.correlationid or envelope.id,
                no_confirm=True,
            )
            for envelope in envelopes
        ]
        await asyncio.gather(*acks)


def tracking_recorder(name: str, env: dict[str, str]) -> TrackingRecorder:
    """A tracking recorder in the same store as the events, for the relay's position."""
    return InfrastructureFactory.construct(Environment(name, env)).tracking_recorder()


async def start_broker(broker: KafkaBroker, stop: asyncio.Event) -> bool:
    """Start `broker`, retrying with backoff while Kafka is unreachable; False if `stop` was set first."""
    backoff = 0.5
    while not stop.is_set():
        try:
            await broker.start()
            return True
        except Exception as exc:  # noqa: BLE001 - the broker may simply not be up yet
            log.warning("Kafka not reachable (%s); retrying in %.1fs", exc, backoff)
            await wait_unless_stopped(stop, backoff)
            backoff = min(backoff * 2, 5.0)
    return False


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


class RelayProcessSettings(Protocol):
    """What a service's settings give its relay process."""

    store: EventStoreSettings
    relay_batch_size: int
    relay_metrics_port: int | None
    metrics_host: str
    log_level: str


def relay_over(
    service: str, app: Application[Any], to_public: ToPublic, settings: RelayProcessSettings, publish: Publish
) -> Relay:
    """A relay publishing `app`'s notification log, its position tracked in the same store."""
    return Relay(
        service=service,
        app=app,
        tracking=tracking_recorder(app.name, persistence_env(settings.store)),
        to_public=to_public,
        publish=publish,
        batch_size=settings.relay_batch_size,
    )


def run_relay(service: str, settings: RelayProcessSettings, build: Callable[[Publish], Relay]) -> None:
    """The body of `python -m services.<service>.relay`: configure, connect to Kafka, relay until stopped."""
    logs.configure(f"{service}-relay", settings.log_level)
    kafka = KafkaSettings()
    broker = make_broker(kafka, client_id=f"{service}-relay")
    leadership = leadership_for(f"relay:{service}", settings.store)
    publisher = KafkaPublisher(broker, kafka)
    relay = build(publisher if leadership is None else guarded(publisher, leadership))
    metrics_port, host = settings.relay_metrics_port, settings.metrics_host
    if not asyncio.run(serve(relay, broker, metrics_port, host=host, leadership=leadership)):
        raise SystemExit(f"{service}-relay lost its leadership lock; exiting so a fresh process can stand by")


def guarded(publish: Publish, leadership: Leadership) -> Publish:
    """`publish`, refusing to send once the leadership lock is no longer ours (checked before each batch)."""

    async def send(envelopes: Sequence[EventEnvelope]) -> None:
        await leadership.check()
        await publish(envelopes)

    return send


async def serve(
    relay: Relay,
    broker: KafkaBroker,
    metrics_port: int | None = None,
    host: str = "127.0.0.1",
    leadership: Leadership | None = None,
) -> bool:
    """Run `relay` until SIGTERM/SIGINT, publishing through `broker`; False if leadership was lost.

    With `leadership` (PostgreSQL stores) the process stands by until it holds the lock,
    reads its position only then (the previous leader's progress), and stops relaying the
    moment the lock is gone; restarting is left to the supervisor, so a fresh process
    never trusts a cached position.
    """
    stop = asyncio.Event()
    _stop_on_signals(stop)
    if metrics_port:
        start_http_server(metrics_port, addr=host)
    if leadership is not None and not await leadership.acquire(stop):
        return True
    lost = asyncio.Event()
    halt = asyncio.Event()
    watcher = asyncio.create_task(_watch(leadership, halt, lost, stop))
    try:
        if await start_broker(broker, halt):
            log.info("relay %s publishing from position %s", relay.name, await asyncio.to_thread(relay.position))
            try:
                await relay.run(halt)
            finally:
                await broker.stop()
    finally:
        halt.set()
        await watcher
        if leadership is not None:
            await asyncio.to_thread(leadership.release)
    return not lost.is_set()


async def _watch(leadership: Leadership | None, halt: asyncio.Event, lost: asyncio.Event, stop: asyncio.Event) -> None:
    """Set `halt` (ending the relay) on a signal (`stop`) or when the leadership is lost."""
    tasks: list[asyncio.Task[Any]] = [asyncio.create_task(stop.wait())]
    if leadership is not None:
        tasks.append(asyncio.create_task(leadership.watch(halt, lost)))
    tasks.append(asyncio.create_task(lost.wait()))
    tasks.append(asyncio.create_task(halt.wait()))
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    halt.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
