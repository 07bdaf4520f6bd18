"""Where the integration tests find Kafka, MongoDB and PostgreSQL.

From env vars set by the local provisioning (`make test` sources `.local/stack.env`),
else from testcontainers when a Docker engine answers. A missing server fails the run:
it never skips, so a green run always means the real servers were exercised.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Servers:
    """Addresses of the real servers under test."""

    kafka: str
    mongo_url: str
    postgres_host: str
    postgres_port: int
    postgres_user: str
    postgres_password: str
    postgres_db: str


def from_env() -> Servers | None:
    """The servers the local provisioning announced, if it did."""
    env = os.environ
    needed = ("CRM_KAFKA_BOOTSTRAP_SERVERS", "CRM_MONGO_URL", "CRM_POSTGRES_HOST", "CRM_POSTGRES_PORT")
    if not all(env.get(name) for name in needed):
        return None
    return Servers(
        kafka=env["CRM_KAFKA_BOOTSTRAP_SERVERS"],
        mongo_url=env["CRM_MONGO_URL"],
        postgres_host=env["CRM_POSTGRES_HOST"],
        postgres_port=int(env["CRM_POSTGRES_PORT"]),
        postgres_user=env.get("CRM_POSTGRES_USER", "crm"),
        postgres_password=env.get("CRM_POSTGRES_PASSWORD", "crm"),
        postgres_db=env.get("CRM_POSTGRES_DB", "crm"),
    )


def docker_answers() -> bool:
    """True if a Docker engine (not just the client) is reachable."""
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception:
        return False
    return True


@contextmanager
def from_containers() -> Iterator[Servers]:
    """Throwaway Kafka, MongoDB and PostgreSQL containers (needs a Docker engine)."""
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer
    from testcontainers.postgres import PostgresContainer

    with ExitStack() as stack:
        kafka = stack.enter_context(KafkaContainer("apache/kafka:4.1.1").with_kraft())
        mongo = stack.enter_context(MongoDbContainer("mongo:8"))
        postgres = stack.enter_context(PostgresContainer("postgres:17", username="crm", password="crm", dbname="crm"))
        yield Servers(
            kafka=kafka.get_bootstrap_server(),
            mongo_url=mongo.get_connection_url(),
            postgres_host=postgres.get_container_host_ip(),
            postgres_port=int(postgres.get_exposed_port(5432)),
            postgres_user="crm",
            postgres_password="crm",
            postgres_db="crm",
        )


@contextmanager
def servers() -> Iterator[Servers]:
    """The servers to test against, or a failure that says how to get them."""
    found = from_env()
    if found is not None:
        yield found
    elif docker_answers():
        with from_containers() as started:
            yield started
    else:
        pytest.fail(
            "no Kafka/MongoDB/PostgreSQL: run `make test` (starts them locally) or give a Docker engine",
            pytrace=False,
        )
