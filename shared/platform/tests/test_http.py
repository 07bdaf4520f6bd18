"""Readiness, metrics and correlation ids that every service's app gets from `instrument`."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.platform import correlation
from shared.platform.http import instrument
from shared.platform.logs import JsonFormatter


async def ok() -> None:
    return None


async def down() -> None:
    raise ConnectionError("connection refused")


def client(advisory: dict[str, object] | None = None, seconds: float = 5.0, **checks: object) -> TestClient:
    app = FastAPI()
    instrument(app, "test", checks, advisory=advisory, check_seconds=seconds)  # type: ignore[arg-type]

    @app.get("/whoami")
    def whoami() -> dict[str, str | None]:
        return {"correlation_id": correlation.current()}

    return TestClient(app)


def test_ready_when_every_check_passes() -> None:
    response = client(store=ok, kafka=ok).get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": ["kafka", "store"]}


def test_not_ready_names_the_failing_dependency() -> None:
    response = client(store=ok, kafka=down).get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == {"kafka": "ConnectionError: connection refused"}


def test_an_advisory_dependency_down_is_reported_but_the_api_stays_ready() -> None:
    """A write API with Kafka away keeps taking commands (its outbox holds the events)."""
    response = client(advisory={"kafka": down}, event_store=ok).get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": ["event_store"],
        "advisory": ["kafka"],
        "degraded": {"kafka": "ConnectionError: connection refused"},
    }
    both = client(advisory={"kafka": down}, event_store=down).get("/readyz")
    assert both.status_code == 503
    assert set(both.json()["failing"]) == {"event_store"}


def test_a_hung_store_is_a_failure_within_the_bound_not_a_hung_probe() -> None:
    async def hung() -> None:
        await asyncio.sleep(3600)

    response = client(seconds=0.2, event_store=hung).get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == {"event_store": "TimeoutError: no answer within 0.2 s"}


def test_metrics_are_exposed_in_prometheus_format() -> None:
    c = client()
    c.get("/healthz")
    body = c.get("/metrics").text
    assert 'crm_http_requests_total{method="GET",route="/healthz",service="test",status="200"}' in body


def test_the_callers_correlation_id_reaches_sync_routes_and_is_echoed() -> None:
    response = client().get("/whoami", headers={"X-Correlation-ID": "abc-123"})
    assert response.json() == {"correlation_id": "abc-123"}
    assert response.headers["X-Correlation-ID"] == "abc-123"


def test_a_request_without_correlation_id_gets_a_fresh_one() -> None:
    response = client().get("/whoami")
    assert response.json()["correlation_id"] == response.headers["X-Correlation-ID"]


def test_json_logs_carry_the_correlation_id(caplog: pytest.LogCaptureFixture) -> None:
    token = correlation.bind("cid-7")
    try:
        record = logging.LogRecord("crm", logging.INFO, __file__, 1, "hello %s", ("张伟",), None)
        line = json.loads(JsonFormatter("test").format(record))
    finally:
        correlation.reset(token)
    assert line["message"] == "hello 张伟"
    assert line["correlation_id"] == "cid-7"
    assert line["service"] == "test"


def test_every_service_serves_the_asyncapi_document_of_the_events() -> None:
    doc = client().get("/asyncapi.json").json()
    assert doc["asyncapi"] == "3.0.0"
    assert "crm.customer.registered.v1" in doc["components"]["messages"]
