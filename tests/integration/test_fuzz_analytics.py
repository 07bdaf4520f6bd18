"""schemathesis against the analytics API, served on loopback over the real document store (FerretDB here).

The write services are fuzzed in process without servers (`tests/test_fuzz_openapi.py`);
analytics reads MongoDB on every route, so it is fuzzed here, on a database of its own
that the test drops. The same bounded, deterministic run: no 5xx, no undocumented
status, no answer off its schema.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

import pytest
import schemathesis
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from pymongo import MongoClient

from services.analytics.main import create_app
from services.analytics.settings import AnalyticsSettings
from shared.platform.auth import AuthSettings
from shared.platform.kafka import KafkaSettings
from tests.integration.servers import Servers
from tests.test_fuzz_openapi import fuzz


@pytest.fixture
def database(real_servers: Servers) -> Iterator[str]:
    name = f"fuzz_{uuid4().hex[:12]}"
    yield name
    client: MongoClient[dict[str, object]]
    with MongoClient(real_servers.mongo_url) as client:
        client.drop_database(name)


@contextmanager
def serving(app: FastAPI, seconds: float = 30) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a thread, for the block; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="fuzzed-analytics", daemon=True)
    thread.start()
    deadline = time.monotonic() + seconds
    while not server.started:
        assert thread.is_alive(), "analytics did not start"
        assert time.monotonic() < deadline, f"analytics not serving within {seconds:g} s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(seconds)


def test_fuzzing_analytics_finds_no_server_error_and_no_answer_the_openapi_does_not_document(
    real_servers: Servers, database: str
) -> None:
    settings = AnalyticsSettings(mongo_url=real_servers.mongo_url, database=database)
    kafka = KafkaSettings(bootstrap_servers=real_servers.kafka)
    app = create_app(settings, AuthSettings(secret=SecretStr("o" * 40)), kafka)
    with serving(app) as url:
        failures = fuzz(schemathesis.openapi.from_url(f"{url}/openapi.json"))
    assert not failures, "\n\n".join(f"{where}\n{why}" for where, why in failures.items())
