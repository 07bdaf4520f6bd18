"""`crm topics describe|ensure` without servers: drift rules, repair requests, the table, exit codes.

Kafka's admin client is replaced by a fake cluster that answers like a broker (the
same response shapes aiokafka returns) and applies AlterConfigs the way Kafka does:
the request replaces every override of the topic.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource
from rich.console import Console
from typer.testing import CliRunner

from crm import topics as topics_cli
from crm.cli import app as cli
from shared.events.topics import CUSTOMER, all_topics
from shared.platform import topicadmin
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import (
    DYNAMIC_TOPIC_CONFIG,
    TopicState,
    describe_topics,
    min_insync_replicas,
    reconcile_topics,
    wanted_configs,
)

DEFAULTS = {
    "retention.ms": "604800000",
    "retention.bytes": "-1",
    "cleanup.policy": "delete",
    "min.insync.replicas": "1",
    "segment.ms": "604800000",
}
"""Broker defaults of the fake cluster (retention of a week, as Kafka ships)."""


class Response:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def to_object(self) -> dict[str, Any]:
        return self.data


class FakeCluster:
    """Topics with partitions, replicas and per-topic overrides, behind the admin calls topicadmin uses."""

    def __init__(self) -> None:
        self.topics: dict[str, dict[str, Any]] = {}
        self.altered: list[tuple[str, dict[str, str]]] = []

    def add(self, name: str, partitions: int = 6, replicas: int = 1, overrides: dict[str, str] | None = None) -> None:
        self.topics[name] = {"partitions": partitions, "replicas": replicas, "overrides": dict(overrides or {})}

    async def list_topics(self) -> list[str]:
        return list(self.topics)

    async def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "topic": n,
                "error_code": 0,
                "partitions": [
                    {"partition": p, "replicas": list(range(self.topics[n]["replicas"]))}
                    for p in range(self.topics[n]["partitions"])
                ],
            }
            for n in names
        ]

    async def describe_configs(self, resources: list[ConfigResource]) -> list[Response]:
        found = []
        for r in resources:
            overrides = self.topics[r.name]["overrides"]
            entries = [
                {
                    "config_names": k,
                    "config_value": overrides.get(k, v),
                    "config_source": DYNAMIC_TOPIC_CONFIG if k in overrides else 5,
                }
                for k, v in (DEFAULTS | overrides).items()
            ]
            found.append({"error_code": 0, "resource_name": r.name, "config_entries": entries})
        return [Response({"resources": found})]

    async def create_topics(self, new: list[NewTopic]) -> Response:
        for t in new:
            self.add(t.name, t.num_partitions, t.replication_factor, t.topic_configs)
        return Response({"topic_errors": [{"topic": t.name, "error_code": 0} for t in new]})

    async def alter_configs(self, resources: list[ConfigResource]) -> list[Response]:
        for r in resources:
            self.altered.append((r.name, dict(r.configs)))
            self.topics[r.name]["overrides"] = dict(r.configs)  # AlterConfigs replaces every override
        return [Response({"resources": [{"error_code": 0, "resource_name": r.name} for r in resources]})]


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster()

    @asynccontextmanager
    async def admin(kafka: KafkaSettings) -> AsyncIterator[FakeCluster]:
        yield fake

    monkeypatch.setattr(topicadmin, "admin_client", admin)
    return fake


KAFKA = KafkaSettings(topic_prefix="t.")
SPECS = all_topics()


def _created_as_specified(cluster: FakeCluster) -> None:
    for spec in SPECS:
        cluster.add(KAFKA.topic(spec.name), overrides=wanted_configs(spec, KAFKA))


def test_min_insync_replicas_leaves_room_for_one_replica_down() -> None:
    assert [min_insync_replicas(rf) for rf in (1, 2, 3, 5)] == [1, 1, 2, 4]
    assert wanted_configs(SPECS[0], KafkaSettings(replication_factor=3))["min.insync.replicas"] == "2"


async def test_a_fresh_cluster_reports_every_topic_missing(cluster: FakeCluster) -> None:
    found = await describe_topics(KAFKA)
    assert len(found) == len(SPECS)
    assert all(t.drift() == ["missing"] and not t.healthy for t in found)


async def test_ensure_creates_what_is_missing_and_then_everything_is_healthy(cluster: FakeCluster) -> None:
    done = await reconcile_topics(KAFKA)
    assert sorted(done.created) == sorted(KAFKA.topic(s.name) for s in SPECS)
    assert not done.unfixable
    assert all(t.healthy for t in await describe_topics(KAFKA))
    assert cluster.topics["t.crm.customer.v1"]["overrides"]["retention.ms"] == "-1"


async def test_config_drift_is_described_and_repaired_keeping_other_overrides(cluster: FakeCluster) -> None:
    _created_as_specified(cluster)
    name = KAFKA.topic(CUSTOMER)
    cluster.topics[name]["overrides"] = {
        "retention.ms": "3600000",
        "segment.ms": "7200000",
    }  # set by hand
    drifted = {t.name: t for t in await describe_topics(KAFKA) if not t.healthy}
    assert list(drifted) == [name]
    assert drifted[name].config_drift() == {"retention.ms": ("3600000", "-1")}
    assert drifted[name].drift() == ["retention.ms=3600000 (wanted -1)"]

    done = await reconcile_topics(KAFKA)

    assert done.repaired == {name: ["retention.ms"]}
    assert not done.unfixable
    assert cluster.topics[name]["overrides"]["segment.ms"] == "7200000"  # an operator's own override survives
    assert all(t.healthy for t in await describe_topics(KAFKA))


async def test_a_default_that_differs_from_the_spec_is_drift(cluster: FakeCluster) -> None:
    _created_as_specified(cluster)
    name = KAFKA.topic(CUSTOMER)
    cluster.topics[name]["overrides"] = {}  # e.g. created by auto-creation with the broker's week of retention
    state = next(t for t in await describe_topics(KAFKA) if t.name == name)
    assert state.config_drift()["retention.ms"] == ("604800000", "-1")


async def test_partitions_and_replication_are_reported_but_never_changed(cluster: FakeCluster) -> None:
    _created_as_specified(cluster)
    name = KAFKA.topic(CUSTOMER)
    cluster.topics[name]["partitions"] = 3
    done = await reconcile_topics(KAFKA)
    assert [t.name for t in done.unfixable] == [name]
    assert done.unfixable[0].drift() == ["partitions=3 (wanted 6)"]
    assert cluster.topics[name]["partitions"] == 3
    assert not cluster.altered


def test_the_table_marks_missing_and_drifting_topics() -> None:
    wanted = {"retention.ms": "-1", "cleanup.policy": "delete"}
    same: dict[str, str | None] = dict(wanted)
    other: dict[str, str | None] = {**wanted, "retention.ms": "9"}
    rows = [
        TopicState("a", True, 6, 1, wanted, partitions=6, replication_factor=1, configs=same),
        TopicState("b", True, 6, 1, wanted, partitions=6, replication_factor=1, configs=other),
        TopicState("c", False, 6, 1, wanted),
    ]
    console = Console(width=200, record=True)
    console.print(topics_cli.topics_table(rows, "topics"))
    text = console.export_text()
    assert "missing" in text
    assert "drift" in text
    assert "9 (wanted -1)" in text


def _cli(cluster: FakeCluster, *args: str) -> tuple[int, str]:
    env = {"CRM_KAFKA_TOPIC_PREFIX": KAFKA.topic_prefix}
    result = CliRunner().invoke(cli, ["topics", *args], env=env)
    return result.exit_code, result.output


def test_describe_exits_1_while_a_topic_is_missing_and_0_once_ensured(cluster: FakeCluster) -> None:
    code, output = _cli(cluster, "describe", "--json")
    assert code == topics_cli.DRIFT
    assert json.loads(output)["exit_code"] == 1

    code, output = _cli(cluster, "ensure")
    assert code == topics_cli.OK, output
    assert "11 created" in output

    code, output = _cli(cluster, "describe", "--json")
    assert code == topics_cli.OK
    data = json.loads(output)
    assert all(t["healthy"] and t["partitions"] == 6 for t in data["topics"])


def test_ensure_exits_1_when_drift_remains_that_it_does_not_change(cluster: FakeCluster) -> None:
    _created_as_specified(cluster)
    cluster.topics[KAFKA.topic(CUSTOMER)]["replicas"] = 2
    code, output = _cli(cluster, "ensure", "--json")
    assert code == topics_cli.DRIFT
    assert json.loads(output)["unfixable"] == {"t.crm.customer.v1": ["replication.factor=2 (wanted 1)"]}


def test_describe_and_ensure_exit_2_when_kafka_is_unreachable() -> None:
    env = {"CRM_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "CRM_KAFKA_REQUEST_TIMEOUT_MS": "1000"}
    for command in ("describe", "ensure"):
        result = CliRunner().invoke(cli, ["topics", command], env=env)
        assert result.exit_code == topics_cli.UNREACHABLE, result.output
        assert "Kafka unreachable" in result.output
