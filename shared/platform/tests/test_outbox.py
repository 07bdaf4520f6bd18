"""The relay publishes every stored event once acknowledged, in order, and resumes after a crash."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from prometheus_client import REGISTRY

from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerConsentChangedV1
from shared.platform import correlation
from shared.platform.eventstore import MAPPER_TOPIC, EventStoreSettings, persistence_env
from shared.platform.outbox import Relay
from shared.platform.relaying import tracking_recorder


class Pet(Aggregate):
    """A stand-in aggregate: its events map to consent changes."""

    @event("Adopted")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Fed")
    def feed(self) -> None:
        pass

    @event("Groomed")
    def groom(self) -> None:
        pass


class Pets(Application[UUID]):
    env = {"MAPPER_TOPIC": MAPPER_TOPIC}  # noqa: RUF012


def to_public(domain_event: Any) -> PublicEvent | None:
    if type(domain_event).__name__ == "Groomed":
        return None  # kept private
    return CustomerConsentChangedV1(customer_id=domain_event.originator_id, channel="email", granted=True)


class FlakyKafka:
    """Acknowledges batches, or fails the next `failures` calls like a broker that is down."""

    def __init__(self) -> None:
        self.acknowledged: list[EventEnvelope] = []
        self.failures = 0

    async def __call__(self, envelopes: Sequence[EventEnvelope]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker down")
        self.acknowledged.extend(envelopes)


def make_relay(db: Path, kafka: FlakyKafka, batch_size: int = 500) -> tuple[Pets, Relay]:
    env = persistence_env(EventStoreSettings(sqlite_path=str(db)))
    app = Pets(env=env)
    relay = Relay(
        service="pets",
        app=app,
        tracking=tracking_recorder("pets", env),
        to_public=to_public,
        publish=kafka,
        batch_size=batch_size,
    )
    return app, relay


def adopt(app: Pets, feeds: int = 0) -> Pet:
    pet = Pet("Wangcai 旺财")
    for _ in range(feeds):
        pet.feed()
    app.save(pet)
    return pet


async def test_every_public_event_is_published_with_its_position(tmp_path: Path) -> None:
    kafka = FlakyKafka()
    app, relay = make_relay(tmp_path / "pets.db", kafka)
    pet = adopt(app, feeds=2)
    assert await relay.publish_pending() == 3
    assert [e.aggregateversion for e in kafka.acknowledged] == [1, 2, 3]
    assert [e.sequence for e in kafka.acknowledged] == [1, 2, 3]
    assert {e.subject for e in kafka.acknowledged} == {str(pet.id)}
    assert relay.position() == relay.head() == 3


async def test_private_events_advance_the_position_without_publishing(tmp_path: Path) -> None:
    kafka = FlakyKafka()
    app, relay = make_relay(tmp_path / "pets.db", kafka)
    pet = adopt(app)
    pet.groom()
    app.save(pet)
    assert await relay.publish_pending() == 2
    assert len(kafka.acknowledged) == 1
    assert relay.position() == 2


async def test_a_failed_publish_records_nothing_and_is_retried(tmp_path: Path) -> None:
    kafka = FlakyKafka()
    app, relay = make_relay(tmp_path / "pets.db", kafka)
    adopt(app, feeds=1)
    kafka.failures = 1
    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    assert relay.position() == 0
    assert await relay.publish_pending() == 2
    assert len(kafka.acknowledged) == 2


async def test_a_restarted_relay_resumes_from_the_recorded_position(tmp_path: Path) -> None:
    kafka = FlakyKafka()
    app, relay = make_relay(tmp_path / "pets.db", kafka, batch_size=2)
    adopt(app, feeds=4)
    assert await relay.publish_pending() == 2
    _, restarted = make_relay(tmp_path / "pets.db", kafka, batch_size=2)
    while await restarted.publish_pending():
        pass
    assert [e.aggregateversion for e in kafka.acknowledged] == [1, 2, 3, 4, 5]


async def test_the_event_id_is_stable_across_republishing(tmp_path: Path) -> None:
    first, second = FlakyKafka(), FlakyKafka()
    app, relay = make_relay(tmp_path / "a.db", first)
    adopt(app, feeds=1)
    await relay.publish_pending()
    replay = Relay(
        service="pets",
        app=app,
        tracking=tracking_recorder("other", persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "b.db")))),
        to_public=to_public,
        publish=second,
    )
    await replay.publish_pending()
    assert [e.id for e in first.acknowledged] == [e.id for e in second.acknowledged]


async def test_the_request_correlation_id_reaches_the_envelope(tmp_path: Path) -> None:
    kafka = FlakyKafka()
    app, relay = make_relay(tmp_path / "pets.db", kafka)
    token = correlation.bind("req-42")
    try:
        adopt(app)
    finally:
        correlation.reset(token)
    await relay.publish_pending()
    assert kafka.acknowledged[0].correlationid == "req-42"
    assert kafka.acknowledged[0].headers()["ce_correlationid"] == "req-42"


async def test_the_relay_reports_its_position_and_the_store_head(tmp_path: Path) -> None:
    kafka = FlakyKafka()
    app, relay = make_relay(tmp_path / "pets.db", kafka, batch_size=2)
    adopt(app, feeds=2)
    await relay.publish_pending()
    assert REGISTRY.get_sample_value("crm_relay_position", {"service": "pets"}) == 2
    assert REGISTRY.get_sample_value("crm_relay_store_head", {"service": "pets"}) == 3
