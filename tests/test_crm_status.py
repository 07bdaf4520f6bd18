"""`crm status` without servers: stores on temporary SQLite files, Kafka replaced by fakes."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment
from typer.testing import CliRunner

from crm import status as status_module
from crm.cli import app
from crm.status import (
    BEHIND,
    HEALTHY,
    STORES,
    UNREACHABLE,
    PartitionLag,
    ProjectionStatus,
    StatusReport,
    StoreStatus,
    collect,
    describe_read_store,
    read_store,
    store_settings,
)
from shared.platform.eventstore import EventStoreSettings, persistence_env
from shared.platform.kafka import KafkaSettings

CUSTOMER = next(s for s in STORES if s.service == "customer")


class Note(Aggregate):
    """A trivial aggregate, enough to put events in a store."""


class Customers(Application[UUID]):
    """Named like the customer service's application, so it shares its tables."""

    name = "customers"


def _store_with(path: Path, events: int, published: int) -> EventStoreSettings:
    store = EventStoreSettings(sqlite_path=str(path))
    env = persistence_env(store)
    application = Customers(env=env)
    for _ in range(events):
        application.save(Note())
    if published:
        tracking = InfrastructureFactory.construct(Environment("customers", env)).tracking_recorder()
        tracking.insert_tracking(Tracking(application_name="relay:customer", notification_id=published))
    return store


def test_head_and_published_position_are_read_from_the_store(tmp_path: Path) -> None:
    store = _store_with(tmp_path / "customer.db", events=5, published=3)
    found = read_store(CUSTOMER, store)
    assert (found.head, found.published, found.unpublished, found.error) == (5, 3, 2, None)


def test_a_store_whose_relay_never_ran_has_published_nothing(tmp_path: Path) -> None:
    store = _store_with(tmp_path / "customer.db", events=2, published=0)
    found = read_store(CUSTOMER, store)
    assert (found.head, found.published, found.error) == (2, 0, None)


def test_a_missing_sqlite_store_is_reported_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    found = read_store(CUSTOMER, EventStoreSettings(sqlite_path=str(path)))
    assert not found.present
    assert found.error is None
    assert not path.exists()


def test_an_unreadable_store_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a sqlite database at all" * 100)
    found = read_store(CUSTOMER, EventStoreSettings(sqlite_path=str(path)))
    assert found.error


def test_store_settings_follow_the_service_env_over_its_default() -> None:
    env = {"CRM_CUSTOMER_STORE__BACKEND": "postgres", "CRM_CUSTOMER_STORE__POSTGRES_DB": "其他", "CRM_SALES_X": "1"}
    store = store_settings(CUSTOMER, env)
    assert (store.backend, store.postgres_db, store.sqlite_path) == ("postgres", "其他", CUSTOMER.default.sqlite_path)


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (StatusReport(True, stores=[StoreStatus("customer", "sqlite", 4, 4)]), HEALTHY),
        (StatusReport(True, stores=[StoreStatus("customer", "sqlite", 5, 4)]), BEHIND),
        (StatusReport(True, lags=[PartitionLag("analytics", "crm.customer.v1", 0, 9, 8)]), BEHIND),
        (StatusReport(True, lags=[PartitionLag("analytics", "crm.customer.v1", 0, 9, 9)]), HEALTHY),
        (StatusReport(False, "down"), UNREACHABLE),
        (StatusReport(True, stores=[StoreStatus("customer", "postgres", error="refused")]), UNREACHABLE),
    ],
)
def test_exit_codes(report: StatusReport, expected: int) -> None:
    assert report.exit_code(max_unpublished=0, max_lag=0) == expected


def test_thresholds_tolerate_a_little_lag() -> None:
    report = StatusReport(True, lags=[PartitionLag("sales", "crm.customer.v1", 2, 10, 7)])
    assert report.exit_code(max_unpublished=0, max_lag=3) == HEALTHY
    assert report.exit_code(max_unpublished=0, max_lag=2) == BEHIND


def test_an_unreachable_kafka_is_reported_not_raised(tmp_path: Path) -> None:
    async def down(_: KafkaSettings) -> list[PartitionLag]:
        raise ConnectionError("no broker")

    report = collect(KafkaSettings(), {}, lags=down, stores=(), generations=None)
    assert not report.kafka_ok
    assert "no broker" in (report.kafka_error or "")
    assert report.exit_code(0, 0) == UNREACHABLE


def test_cli_prints_json_and_exits_with_the_verdict(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store = _store_with(tmp_path / "customer.db", events=3, published=1)

    async def lags(_: KafkaSettings) -> list[PartitionLag]:
        return [PartitionLag("analytics", "crm.customer.v1", 1, 6, 6)]

    def fake_collect(kafka: KafkaSettings, env: object) -> StatusReport:
        env = {"CRM_CUSTOMER_STORE__SQLITE_PATH": store.sqlite_path}
        return collect(kafka, env, lags=lags, stores=(CUSTOMER,), generations=None)

    monkeypatch.setattr(status_module, "collect", fake_collect)
    result = CliRunner().invoke(app, ["status", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == BEHIND
    assert data["stores"][0] | {"unpublished": 2} == data["stores"][0]
    assert data["consumers"] == [
        {"group": "analytics", "topic": "crm.customer.v1", "partition": 1, "end": 6, "committed": 6, "lag": 0}
    ]
    table = CliRunner().invoke(app, ["status", "--max-unpublished", "2"])
    assert table.exit_code == HEALTHY
    assert "customer" in table.stdout
    assert "analytics" in table.stdout


def test_projection_generations_are_listed_and_an_unreadable_analytics_store_is_unreachable() -> None:
    async def lags(_: KafkaSettings) -> list[PartitionLag]:
        return [PartitionLag("analytics", "crm.customer.v1", 0, 9, 9)]

    row = ProjectionStatus(0, "active", "crm_analytics", "analytics", 9, 0, "2026-11-25T10:00:00+00:00")
    active = [PartitionLag("analytics-g2", "crm.customer.v1", 0, 9, 7)]
    report = collect(
        KafkaSettings(),
        {},
        lags=lags,
        stores=(),
        generations=lambda kafka, env: ([row], active),
        read_store_server=lambda env: "FerretDB v1.24.2-crm.1",
    )
    assert report.as_json(0, 0)["read_store"] == "FerretDB v1.24.2-crm.1"
    assert report.lags == active, "the active generation's group replaces the retired one"
    assert report.exit_code(0, 0) == BEHIND
    assert report.as_json(0, 0)["projections"] == [
        {
            "generation": 0,
            "status": "active",
            "database": "crm_analytics",
            "group": "analytics",
            "position": 9,
            "lag": 0,
            "last_event_at": "2026-11-25T10:00:00+00:00",
        }
    ]

    def down(kafka: KafkaSettings, env: object) -> tuple[list[ProjectionStatus], list[PartitionLag]]:
        raise ConnectionError("mongo down")

    report = collect(KafkaSettings(), {}, lags=lags, stores=(), generations=down, read_store_server=None)
    assert report.exit_code(0, 0) == UNREACHABLE
    assert "mongo down" in (report.projections_error or "")


def test_the_read_store_is_named_with_ferretdbs_own_version_when_it_is_ferretdb() -> None:
    assert describe_read_store({"version": "7.0.77", "ferretdbVersion": "v1.24.2-crm.1"}) == "FerretDB v1.24.2-crm.1"
    assert describe_read_store({"version": "8.0.4"}) == "MongoDB 8.0.4"
