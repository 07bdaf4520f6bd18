"""Fixtures of the integration suite: real servers, and an isolated platform per test.

Each test gets its own topic prefix (so its own topics and consumer groups), its own
MongoDB database and its own event store (SQLite file or PostgreSQL database), so
tests never see each other's events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from pymongo import MongoClient

from crm.devstack import Stack, environment
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import delete_topics, ensure_topics
from tests.integration.platform import Platform
from tests.integration.servers import Servers, servers

JWT_SECRET = "integration-secret-0123456789abcdef0123"
STORE_SERVICES = ("customer", "sales", "marketing", "support", "social")
"""Services with an event store; each also gets a MongoDB database of its own."""


@pytest.fixture(scope="session")
def real_servers() -> Iterator[Servers]:
    """Kafka, MongoDB and PostgreSQL for the whole session."""
    with servers() as found:
        yield found


@pytest.fixture(params=["sqlite", "postgres"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """Every pipeline test runs against both event stores."""
    backend: str = request.param
    return backend


def _postgres_database(srv: Servers, name: str, *, drop: bool = False) -> None:
    dsn = (
        f"host={srv.postgres_host} port={srv.postgres_port} user={srv.postgres_user} "
        f"password={srv.postgres_password} dbname={srv.postgres_db}"
    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
            return
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.errors.InsufficientPrivilege:
            # FORCE must be allowed to end every session, autovacuum's included, and a
            # non-superuser may not end that one; a plain DROP stops autovacuum itself.
            _drop_when_free(conn, name)


def _drop_when_free(conn: psycopg.Connection[tuple[object, ...]], name: str, attempts: int = 20) -> None:
    for attempt in range(attempts):
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            return
        except psycopg.errors.ObjectInUse:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)  # a test process still closing its pool


def _store_env(srv: Servers, backend: str, tmp_path: Path, db: str) -> dict[str, str]:
    """Each service's event store: its own SQLite file, or its own tables in the test's database."""
    env: dict[str, str] = {}
    for service in STORE_SERVICES:
        prefix = f"CRM_{service.upper()}_STORE__"
        if backend == "sqlite":
            env |= {f"{prefix}BACKEND": "sqlite", f"{prefix}SQLITE_PATH": str(tmp_path / f"{service}.db")}
            continue
        env |= {
            f"{prefix}BACKEND": "postgres",
            f"{prefix}POSTGRES_HOST": srv.postgres_host,
            f"{prefix}POSTGRES_PORT": str(srv.postgres_port),
            f"{prefix}POSTGRES_USER": srv.postgres_user,
            f"{prefix}POSTGRES_PASSWORD": srv.postgres_password,
            f"{prefix}POSTGRES_DB": db,
        }
    return env


@pytest.fixture
def platform(real_servers: Servers, store_backend: str, tmp_path: Path) -> Iterator[Platform]:
    """An isolated platform on the real servers; the test starts the processes it needs."""
    run = uuid4().hex[:10]
    kafka = KafkaSettings(bootstrap_servers=real_servers.kafka, topic_prefix=f"it{run}.")
    asyncio.run(ensure_topics(kafka))
    database = f"crm_it_{run}"
    if store_backend == "postgres":
        _postgres_database(real_servers, database)
    env = environment(
        {
            "CRM_KAFKA_BOOTSTRAP_SERVERS": real_servers.kafka,
            "CRM_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
            "CRM_MONGO_URL": real_servers.mongo_url,
            "CRM_ANALYTICS_DATABASE": database,
            **{f"CRM_{service.upper()}_DATABASE": f"{database}_{service}" for service in STORE_SERVICES},
            "CRM_JWT_SECRET": JWT_SECRET,
            "CRM_SUPPORT_SURVEY_SECRET": "integration-survey-secret-0123456789abcdef",  # test-only HMAC key
            "CRM_SOCIAL_CREDENTIALS_KEY": "aW50ZWdyYXRpb24tY3JlZGVudGlhbHMta2V5LTMyYiE=",  # test-only AES key
            "CRM_CUSTOMER_DEFAULT_PHONE_REGION": "CN",
            "CRM_ANALYTICS_RETRY_DELAY_SECONDS": "0.2",
            **_store_env(real_servers, store_backend, tmp_path, database),
        }
    )
    stack = Stack(env, log_dir=tmp_path / "logs")
    mongo: MongoClient[dict[str, object]] = MongoClient(real_servers.mongo_url)
    try:
        yield Platform(stack=stack, kafka=kafka, mongo=mongo[database], jwt_secret=JWT_SECRET, backend=store_backend)
    finally:
        stack.stop_all()
        asyncio.run(delete_topics(kafka))
        generations = [n for n in mongo.list_database_names() if n.startswith(f"{database}_g")]  # rebuilds
        for name in [database, *generations] + [f"{database}_{service}" for service in STORE_SERVICES]:
            mongo.drop_database(name)
        mongo.close()
        if store_backend == "postgres":
            _postgres_database(real_servers, database, drop=True)
