"""Kafka connection settings and the FastStream brokers built from them.

Every producer of the platform is idempotent with `acks=all`: a retried send never
duplicates or reorders a record within a partition, and an acknowledged record is on
every in-sync replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka.client import AIOKafkaClient
from faststream.kafka import KafkaBroker
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """`CRM_KAFKA_*`: where the brokers are, and an optional topic prefix for isolation."""

    model_config = SettingsConfigDict(env_prefix="CRM_KAFKA_", extra="ignore")

    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "crm"
    topic_prefix: str = ""
    """Prepended to every topic name; lets tests and tenants share one cluster."""
    request_timeout_ms: int = 15_000
    replication_factor: int = 1
    """Replicas of each topic created by `crm topics ensure` (3 in production)."""

    def topic(self, name: str) -> str:
        """The physical name of logical topic `name`."""
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """The physical name of consumer group `name` (prefixed like the topics)."""
        return f"{self.topic_prefix}{name}"


def make_broker(settings: KafkaSettings, *, client_id: str | None = None) -> KafkaBroker:
    """A FastStream Kafka broker whose producer is idempotent with `acks=all`."""
    return KafkaBroker(
        settings.bootstrap_servers.split(","),
        client_id=client_id or settings.client_id,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=settings.request_timeout_ms,
        linger_ms=5,
        logger=None,
    )


def readiness(settings: KafkaSettings) -> Callable[[], Awaitable[None]]:
    """A readiness check that a broker of `settings` answers."""

    async def check() -> None:
        await kafka_ready(settings)

    return check


async def kafka_ready(settings: KafkaSettings, within: float = 3.0) -> None:
    """Raise unless a broker answers a metadata request within `within` seconds."""
    client = AIOKafkaClient(
        bootstrap_servers=settings.bootstrap_servers.split(","), request_timeout_ms=int(within * 1000)
    )
    try:
        await asyncio.wait_for(client.bootstrap(), within)
    finally:
        await client.close()
