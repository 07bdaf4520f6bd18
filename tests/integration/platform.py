"""A handle on one isolated platform under test: start processes, call APIs, read Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from pymongo.database import Database

from crm.devstack import SERVICES, Running, Stack
from services.customer.application import CustomerApplication
from shared.events.topics import PARTITIONS
from shared.platform.auth import issue_token
from shared.platform.eventstore import EventStoreSettings, persistence_env
from shared.platform.kafka import KafkaSettings

T = TypeVar("T")
PIPELINE = ("customer", "customer-relay", "analytics-projector", "analytics")


def eventually(probe: Callable[[], T | None], timeout: float = 30, interval: float = 0.05, what: str = "") -> T:
    """Poll `probe` until it returns something truthy, or fail after `timeout` seconds."""
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        result = probe()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"not within {timeout}s: {what or probe}")


@dataclass
class Platform:
    """The isolated platform of one test."""

    stack: Stack
    kafka: KafkaSettings
    mongo: Database[dict[str, Any]]
    jwt_secret: str
    backend: str

    def start(self, name: str, **env: str) -> Running:
        """Start the named service (see `crm.devstack.SERVICES`), with extra env."""
        service = next(s for s in SERVICES if s.name == name)
        self.stack.env.update(env)
        return self.stack.start(service)

    def start_all(self) -> None:
        """Start every process of the platform (heavy: prefer `start_pipeline` or naming what a test needs)."""
        self.stack.start_all()

    def start_pipeline(self) -> None:
        """The customer → analytics pipeline: customer API and relay, projector, analytics API."""
        for name in PIPELINE:
            self.start(name)

    def headers(self, *roles: str) -> dict[str, str]:
        """Authorization header for a caller with `roles`."""
        return {"Authorization": f"Bearer {issue_token(self.jwt_secret, 'it@example.com', list(roles) or ['admin'])}"}

    def store(self) -> CustomerApplication:
        """The customer event store the platform's processes use, opened in this test process."""
        return CustomerApplication(env=self.store_env("customer"), default_region="CN")

    def store_env(self, service: str) -> dict[str, str]:
        """The `eventsourcing` environment of `service`'s event store, to open it in this test process."""
        prefix = f"CRM_{service.upper()}_STORE__"
        fields = {k[len(prefix) :].lower(): v for k, v in self.stack.env.items() if k.startswith(prefix)}
        return persistence_env(EventStoreSettings(**fields))

    def url(self, name: str) -> str:
        """Base URL of a started service."""
        return self.stack.running[name].url

    def customer_360(self, customer_id: str, **expected: Any) -> dict[str, Any] | None:
        """The 360 document via the analytics API once it shows `expected` fields, else None."""
        response = httpx.get(f"{self.url('analytics')}/customers/{customer_id}/360", headers=self.headers("sales_rep"))
        if response.status_code != 200:
            return None
        doc: dict[str, Any] = response.json()
        return doc if all(doc.get(k) == v for k, v in expected.items()) else None

    def refit(self, body: dict[str, Any] | None = None, timeout: float = 600) -> dict[str, Any]:
        """Start a refit job through the analytics API and read it until it ends; the finished job."""
        url, analyst = self.url("analytics"), self.headers("analyst")
        started = httpx.post(f"{url}/models/refit", headers=analyst, json=body, timeout=30)
        assert started.status_code == 202, started.text
        location = started.headers["Location"]

        def ended() -> dict[str, Any] | None:
            job: dict[str, Any] = httpx.get(f"{url}{location}", headers=analyst, timeout=30).json()
            return None if job["state"] == "running" else job

        return eventually(ended, timeout=timeout, interval=0.5, what=f"refit job {location}")

    def end_offsets(self, logical_topic: str) -> int:
        """How many records the topic holds (sum over partitions)."""
        return count_records(self.kafka, logical_topic)

    def records(self, logical_topic: str) -> list[ConsumerRecord[bytes, bytes]]:
        """Every record of the topic, partition by partition."""
        return read_records(self.kafka, logical_topic)


def count_records(kafka: KafkaSettings, logical_topic: str) -> int:
    """How many records a topic holds on the cluster `kafka` names (sum over partitions)."""
    return asyncio.run(_count(kafka, kafka.topic(logical_topic)))


def read_records(kafka: KafkaSettings, logical_topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic on the cluster `kafka` names."""
    return asyncio.run(_read_all(kafka, kafka.topic(logical_topic)))


async def _count(kafka: KafkaSettings, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, **kafka.client_options())
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(partitions)
        return sum(ends.values())
    finally:
        await consumer.stop()


async def _read_all(kafka: KafkaSettings, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, enable_auto_commit=False, **kafka.client_options()
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()
