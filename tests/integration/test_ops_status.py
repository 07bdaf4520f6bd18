"""`crm status` on the real servers: store head vs relay position, consumer lag reaching zero."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crm.cli import app
from crm.status import HEALTHY, StatusReport, collect
from shared.events.topics import CUSTOMER
from tests.integration.platform import Platform, eventually


def _caught_up(platform: Platform, events: int) -> StatusReport | None:
    report = collect(platform.kafka, platform.stack.env)
    customer = next(s for s in report.stores if s.service == "customer")
    analytics = [p for p in report.lags if p.group == "analytics" and p.topic == platform.kafka.topic(CUSTOMER)]
    done = (
        report.kafka_ok
        and customer.head == customer.published == events
        and sum(p.end for p in analytics) == events
        and all(p.lag == 0 for p in analytics)
    )
    return report if done else None


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_status_reports_everything_published_and_consumed(platform: Platform) -> None:
    store = platform.store()
    platform.start("customer-relay")
    platform.start("analytics-projector")
    ids = [store.register(name=f"客户 {n}", emails=[f"s{n}@example.com"], phones=[]) for n in range(30)]
    events = store.recorder.max_notification_id()
    assert events is not None
    assert events >= len(ids)

    report = eventually(lambda: _caught_up(platform, events), timeout=90, what="published and consumed")
    assert report.exit_code(max_unpublished=0, max_lag=0) == HEALTHY
    assert report.read_store == "FerretDB v1.24.2-crm.1", "make infra runs our patched build"

    result = CliRunner().invoke(app, ["status", "--json"], env=platform.stack.env)
    data = json.loads(result.stdout)
    assert result.exit_code == HEALTHY, result.stdout
    assert data["kafka"]["ok"] is True
    customer = next(s for s in data["stores"] if s["service"] == "customer")
    assert customer["head"] == customer["published"] == events


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_status_exits_1_while_the_relay_is_down(platform: Platform) -> None:
    store = platform.store()
    store.register(name="王小明", emails=["wang@example.com"], phones=[])
    result = CliRunner().invoke(app, ["status", "--json"], env=platform.stack.env)
    data = json.loads(result.stdout)
    customer = next(s for s in data["stores"] if s["service"] == "customer")
    assert customer["unpublished"] >= 1, data
    assert result.exit_code == 1
