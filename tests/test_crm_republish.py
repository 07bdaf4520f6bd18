"""`crm republish` without servers: the relay's own envelopes, ranges, argument errors, failures.

The stores are in memory or temporary SQLite files; Kafka is replaced by a recorder of
what would have been sent, or is simply absent (a closed port) to prove exit code 1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment
from typer.testing import CliRunner

from crm.cli import app as cli
from crm.republish import BAD_ARGUMENTS, OK, SOURCES, STORE_OR_KAFKA_FAILED, Summary, republish_range
from services.customer.application import CustomerApplication
from services.customer.relay import build_relay, to_public
from services.customer.settings import CustomerSettings
from services.support.application import SupportApplication
from services.support.relay import build_relay as build_support_relay
from services.support.settings import SupportSettings
from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerConsentChangedV1
from shared.platform.eventstore import MAPPER_TOPIC, EventStoreSettings, persistence_env
from shared.platform.outbox import Relay

Record = tuple[str, bytes, bytes, tuple[tuple[str, str], ...]]


class Kafka:
    """Records what would be sent, as Kafka would store it: (event id, key, value, headers)."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.records: list[Record] = []
        self.sequences: list[int | None] = []
        self.calls = 0
        self.fail_on_call = fail_on_call

    async def __call__(self, envelopes: Sequence[EventEnvelope]) -> None:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise ConnectionError("broker gone")
        for e in envelopes:
            self.records.append((e.id, e.key, e.body(), tuple(sorted(e.headers().items()))))
            self.sequences.append(e.sequence)


def _customer_history(application: CustomerApplication) -> None:
    """Every kind of customer event, with Chinese names, a merge and an erasure."""
    wang = application.register(name="王小明", emails=["wang@example.com"], phones=["+8613800138000"], tags=["vip"])
    li = application.register(name="李雷", emails=["li@example.com"], phones=[], address="北京市")
    application.update_profile(wang, expected_version=None, name="王晓明", address="上海市")
    application.add_contact_point(wang, expected_version=None, kind="email", value="wang2@example.com")
    application.remove_contact_point(wang, expected_version=None, kind="email", value="wang@example.com")
    application.change_consent(wang, expected_version=None, channel="email", granted=True)
    application.record_interaction(
        wang,
        expected_version=None,
        kind="call",
        summary="询问价格",
        occurred_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        recorded_by="rep@example.com",
    )
    gone = application.register(name="张三", emails=["zhang@example.com"], phones=[])
    application.merge(survivor_id=wang, merged_id=li)
    application.erase(gone)


def _drain(relay: Relay) -> None:
    async def run() -> None:
        while await relay.publish_pending():
            pass

    asyncio.run(run())


def _relay(application: CustomerApplication, kafka: Kafka) -> Relay:
    """A relay over the in-memory store, its position tracked in memory too."""
    tracking = InfrastructureFactory.construct(Environment("customers", {"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    return Relay(
        service="customer",
        app=application,
        tracking=tracking.tracking_recorder(),
        to_public=to_public,
        publish=kafka,
        batch_size=3,
    )


def test_republish_sends_exactly_what_the_relay_sent_and_leaves_its_position() -> None:
    application = CustomerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, default_region="CN")
    _customer_history(application)
    head = application.recorder.max_notification_id()
    assert head is not None
    relayed, replayed = Kafka(), Kafka()
    relay = _relay(application, relayed)
    _drain(relay)
    assert relay.position() == head

    again = Relay(
        service="customer",
        app=application,
        tracking=relay.tracking,
        to_public=to_public,
        publish=replayed,
        batch_size=4,
    )
    summary = asyncio.run(republish_range(again, Summary("customer", 1, head)))

    assert replayed.records == relayed.records
    assert replayed.sequences == relayed.sequences == list(range(1, head + 1))
    assert (summary.published, summary.private_skipped, summary.last) == (head, 0, head)
    assert relay.tracking.max_tracking_id("relay:customer") == head  # untouched, not moved back or forward


def test_a_range_re_emits_only_its_notifications() -> None:
    application = CustomerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, default_region="CN")
    _customer_history(application)
    relayed, replayed = Kafka(), Kafka()
    _drain(_relay(application, relayed))

    summary = asyncio.run(republish_range(_relay(application, replayed), Summary("customer", 4, 9)))

    assert replayed.sequences == [4, 5, 6, 7, 8, 9]
    assert replayed.records == relayed.records[3:9]
    assert summary.last == 9


class Pet(Aggregate):
    """Some events of a stand-in aggregate stay private, like a service's internal ones."""

    @event("Adopted")
    def __init__(self, name: str) -> None:
        self.name = name

    @event("Groomed")
    def groom(self) -> None:
        pass


class Pets(Application[UUID]):
    env = {"MAPPER_TOPIC": MAPPER_TOPIC, "PERSISTENCE_MODULE": "eventsourcing.popo"}  # noqa: RUF012


def _pets_public(domain_event: object) -> PublicEvent | None:
    if type(domain_event).__name__ == "Groomed":
        return None
    return CustomerConsentChangedV1(customer_id=domain_event.originator_id, channel="email", granted=True)  # type: ignore[attr-defined]


def _pets(kafka: Kafka, groomings: int) -> tuple[Pets, Relay]:
    pets = Pets()
    for n in range(5):
        pet = Pet(f"旺财 {n}")
        for _ in range(groomings):
            pet.groom()
        pets.save(pet)
    tracking = InfrastructureFactory.construct(Environment("pets", {"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    relay = Relay(
        service="pets", app=pets, tracking=tracking.tracking_recorder(), to_public=_pets_public, publish=kafka
    )
    relay.batch_size = 4
    return pets, relay


def test_private_events_are_counted_not_sent() -> None:
    kafka = Kafka()
    _, relay = _pets(kafka, groomings=2)
    summary = asyncio.run(republish_range(relay, Summary("pets", 1, 15)))
    assert (summary.published, summary.private_skipped) == (5, 10)
    assert len(kafka.records) == 5


def test_a_broker_failure_stops_at_the_last_acknowledged_batch() -> None:
    kafka = Kafka(fail_on_call=2)
    _, relay = _pets(kafka, groomings=0)
    summary = Summary("pets", 1, 5)
    with pytest.raises(ConnectionError):
        asyncio.run(republish_range(relay, summary))
    assert summary.last == 4  # the first batch of 4 was acknowledged; resume with --from 5
    assert summary.published == 4


# --- the command line -----------------------------------------------------------------


def _customer_store(path: Path, customers: int) -> dict[str, str]:
    store = EventStoreSettings(sqlite_path=str(path))
    application = CustomerApplication(env=persistence_env(store), default_region="CN")
    for n in range(customers):
        application.register(name=f"客户 {n}", emails=[f"c{n}@example.com"], phones=[])
    return {
        "CRM_CUSTOMER_STORE__BACKEND": "sqlite",
        "CRM_CUSTOMER_STORE__SQLITE_PATH": str(path),
        "CRM_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",  # nothing listens: Kafka is "down"
        "CRM_KAFKA_REQUEST_TIMEOUT_MS": "1000",
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["republish", *args], env=env)
    return result.exit_code, result.output


def test_every_service_with_a_store_can_be_republished() -> None:
    assert set(SOURCES) == {"customer", "sales", "marketing", "support", "social"}
    for name, source in SOURCES.items():
        assert source.stream == f"crm.{name}.v1"
        assert callable(__import__(source.relay_module, fromlist=["build_relay"]).build_relay)


def test_unknown_service_exits_2(tmp_path: Path) -> None:
    code, output = _run(_customer_store(tmp_path / "c.db", 1), "billing")
    assert code == BAD_ARGUMENTS
    assert "unknown service" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "4"], "--from 4 is beyond the store head 3"),
        (["--to", "9"], "--to 9 is beyond the store head 3"),
        (["--from", "3", "--to", "2"], "--to 2 is before --from 3"),
    ],
)
def test_positions_outside_the_store_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, output = _run(_customer_store(tmp_path / "c.db", 3), "customer", *args)
    assert code == BAD_ARGUMENTS
    assert message in output


def test_position_zero_is_refused(tmp_path: Path) -> None:
    code, _ = _run(_customer_store(tmp_path / "c.db", 1), "customer", "--from", "0")
    assert code == BAD_ARGUMENTS


def test_invalid_service_settings_exit_2(tmp_path: Path) -> None:
    env = _customer_store(tmp_path / "c.db", 1) | {"CRM_CUSTOMER_RELAY_BATCH_SIZE": "0"}
    code, output = _run(env, "customer")
    assert code == BAD_ARGUMENTS
    assert "CRM_CUSTOMER_" in output


def test_a_missing_store_exits_1_and_is_not_created(tmp_path: Path) -> None:
    env = _customer_store(tmp_path / "c.db", 1) | {"CRM_CUSTOMER_STORE__SQLITE_PATH": str(tmp_path / "nope.db")}
    code, output = _run(env, "customer")
    assert code == STORE_OR_KAFKA_FAILED
    assert "no customer event store" in output
    assert not (tmp_path / "nope.db").exists()


def test_an_empty_store_has_nothing_to_republish(tmp_path: Path) -> None:
    code, output = _run(_customer_store(tmp_path / "c.db", 0), "customer", "--json")
    assert code == OK, output
    summary = json.loads(output)
    assert summary["published"] == 0
    assert set(summary) >= {"service", "from", "to", "published", "private_skipped", "seconds"}


def test_kafka_down_exits_1_saying_where_to_resume(tmp_path: Path) -> None:
    env = _customer_store(tmp_path / "c.db", 2)
    tracking_env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "c.db")))
    tracking = InfrastructureFactory.construct(Environment("customers", tracking_env)).tracking_recorder()
    tracking.insert_tracking(Tracking(application_name="relay:customer", notification_id=1))
    code, output = _run(env, "customer", "--from", "2")
    assert code == STORE_OR_KAFKA_FAILED
    assert "resume with --from 2" in output
    assert tracking.max_tracking_id("relay:customer") == 1
    result = CliRunner().invoke(cli, ["republish", "customer", "--json"], env=env)
    assert result.exit_code == STORE_OR_KAFKA_FAILED
    assert json.loads(result.stdout)["error"]


def test_the_service_relay_builds_identical_envelopes_in_a_fresh_process(tmp_path: Path) -> None:
    """Two relays built like two processes (the relay, then `crm republish`) over one SQLite store agree."""
    store = EventStoreSettings(sqlite_path=str(tmp_path / "customer.db"))
    _customer_history(CustomerApplication(env=persistence_env(store), default_region="CN"))
    settings = CustomerSettings(store=store)
    first, second = Kafka(), Kafka()
    relay = build_relay(settings, first)
    _drain(relay)
    head = relay.head()
    asyncio.run(republish_range(build_relay(settings, second), Summary("customer", 1, head)))
    assert second.records == first.records
    assert build_relay(settings, second).position() == head


def test_support_events_republished_from_mid_log_keep_the_customer_they_had(tmp_path: Path) -> None:
    """A ticket later moved to another customer (a merge) keeps its earlier events keyed by the first one."""
    store = EventStoreSettings(sqlite_path=str(tmp_path / "support.db"))
    support = SupportApplication(env=persistence_env(store))
    merged, survivor = uuid4(), uuid4()
    ticket = support.open_ticket(
        customer_id=merged,
        channel="email",
        subject="无法登录",
        description="密码错误",
        category="billing",
        priority="P3",
        opened_by="agent@example.com",
    )
    support.reply(ticket, expected_version=None, author="agent@example.com", body="我们在处理")
    support.repoint_customer(merged, survivor)
    settings = SupportSettings(store=store)
    relayed, replayed = Kafka(), Kafka()
    relay = build_support_relay(settings, relayed)
    _drain(relay)
    replied = next(s for s in relayed.sequences if s is not None and s > 1)

    asyncio.run(republish_range(build_support_relay(settings, replayed), Summary("support", replied, relay.head())))

    first = relayed.sequences.index(replied)
    assert replayed.records == relayed.records[first:]
    assert replayed.records[0][1] == str(merged).encode()
