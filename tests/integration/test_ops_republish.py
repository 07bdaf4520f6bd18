"""`crm republish` and `crm topics describe|ensure` on the real servers.

The customer topic is lost and rebuilt from the event store: the records come back with
the same event ids, keys, values and headers, so subscribers dedupe them; the relay's
position is untouched. The CLI runs as a subprocess with the platform's environment, as
an operator would run it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from typer.testing import CliRunner

from crm.cli import app as cli
from shared.events.topics import CUSTOMER, TopicSpec
from shared.platform.relaying import tracking_recorder
from shared.platform.topicadmin import TopicState, delete_topics, describe_topics
from tests.integration.platform import Platform, eventually

CRM = str(Path(sys.executable).parent / "crm")
Record = tuple[str, bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]


def crm(platform: Platform, *args: str) -> tuple[int, Any]:
    """Run `crm ARGS --json` as a subprocess, as an operator would; its exit code and parsed output."""
    done = subprocess.run(
        [CRM, *args, "--json"], env=platform.stack.env, capture_output=True, text=True, timeout=180, check=False
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"crm {' '.join(args)} exited {done.returncode}: {done.stdout}\n{done.stderr}") from None


def topics(platform: Platform, command: str) -> tuple[int, Any]:
    """`crm topics COMMAND --json` in this process (the CLI's start-up is slow on a loaded machine)."""
    result = CliRunner().invoke(cli, ["topics", command, "--json"], env=platform.stack.env)
    return result.exit_code, json.loads(result.stdout)


TRACE_CONTEXT = {"traceparent", "tracestate", "ce_traceparent", "ce_tracestate"}
"""Headers naming the PRODUCER span of each publication (a new span per send), not the event."""


def record(r: ConsumerRecord[bytes, bytes]) -> Record:
    """What a subscriber receives: event id, key, value and every header but the producing span's trace context."""
    headers = tuple(sorted((k, v) for k, v in r.headers if k not in TRACE_CONTEXT))
    return dict(headers)["ce_id"].decode(), r.key, r.value, headers


def sequence(r: Record) -> int:
    return int(dict(r[3])["ce_sequence"])


def write_history(platform: Platform, customers: int) -> int:
    """Customers registered and edited over HTTP, with Chinese names; the store head afterwards."""
    url, rep = platform.url("customer"), platform.headers("sales_rep")
    with httpx.Client(base_url=url, headers=rep, timeout=30) as http:
        for n in range(customers):
            body = {"name": f"客户{n}号", "emails": [f"c{n}@example.cn"], "phones": [], "consent": {"email": True}}
            created = http.post("/customers", json=body)
            assert created.status_code == 201, created.text
            if n % 3 == 0:
                edited = http.patch(f"/customers/{created.json()['id']}", json={"tags": ["vip", f"批次{n}"]})
                assert edited.status_code == 200, edited.text
    with platform.store() as store:  # held open: a temporary app may be collected, closing its pool, mid-call
        head = store.recorder.max_notification_id()
    assert head is not None
    return head


def published(platform: Platform, count: int) -> list[Record]:
    """The customer topic once it holds `count` records."""
    eventually(lambda: platform.end_offsets(CUSTOMER) >= count, timeout=60, what=f"{count} records on the topic")
    return [record(r) for r in platform.records(CUSTOMER)]


def relay_position(platform: Platform) -> int | None:
    """The customer relay's tracked position, read from its store like `crm status` does."""
    return tracking_recorder("customers", platform.store_env("customer")).max_tracking_id("relay:customer")


def customer_topic(platform: Platform) -> TopicState:
    return asyncio.run(describe_topics(platform.kafka, [TopicSpec(CUSTOMER)]))[0]


def test_a_deleted_topic_is_recreated_and_republished_with_the_same_records(platform: Platform) -> None:
    platform.start("customer")
    platform.start("customer-relay")
    head = write_history(platform, customers=12)
    before = published(platform, head)
    assert sorted(map(sequence, before)) == list(range(1, head + 1))
    eventually(lambda: relay_position(platform) == head, what="relay position at the head")

    asyncio.run(delete_topics(platform.kafka, [TopicSpec(CUSTOMER)]))
    eventually(lambda: not customer_topic(platform).exists, timeout=30, what="topic deleted")
    code, described = topics(platform, "describe")
    assert code == 1
    assert [t["drift"] for t in described["topics"] if t["topic"] == platform.kafka.topic(CUSTOMER)] == [["missing"]]

    code, ensured = topics(platform, "ensure")
    assert (code, ensured["created"]) == (0, [platform.kafka.topic(CUSTOMER)]), ensured
    code, described = topics(platform, "describe")
    assert code == 0, described
    assert all(t["healthy"] for t in described["topics"])

    code, summary = crm(platform, "republish", "customer")
    assert code == 0, summary
    assert (summary["from"], summary["to"], summary["published"], summary["private_skipped"]) == (1, head, head, 0)

    after = published(platform, head)
    assert sorted(after) == sorted(before)  # same ids, keys, values and headers; nothing more
    assert relay_position(platform) == head  # republishing never moves the relay


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_republish_from_a_position_re_emits_only_the_later_notifications(platform: Platform) -> None:
    platform.start("customer")
    platform.start("customer-relay")
    head = write_history(platform, customers=8)
    before = published(platform, head)
    start = head - 4

    code, summary = crm(platform, "republish", "customer", "--from", str(start))
    assert code == 0, summary
    assert (summary["from"], summary["to"], summary["published"]) == (start, head, head - start + 1)

    after = published(platform, head + summary["published"])
    copies = Counter(after)
    assert set(copies) == set(before)
    assert {r: n for r, n in copies.items() if n > 1} == {r: 2 for r in before if sequence(r) >= start}

    beyond = CliRunner().invoke(cli, ["republish", "customer", "--from", str(head + 1)], env=platform.stack.env)
    assert beyond.exit_code == 2, beyond.output


async def _set_retention_by_hand(platform: Platform, retention_ms: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka.bootstrap_servers, **platform.kafka.client_options())
    await admin.start()
    try:
        resource = ConfigResource(
            ConfigResourceType.TOPIC, platform.kafka.topic(CUSTOMER), {"retention.ms": retention_ms}
        )
        await admin.alter_configs([resource])
    finally:
        await admin.close()


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_describe_reports_a_drifted_config_and_ensure_repairs_it(platform: Platform) -> None:
    asyncio.run(_set_retention_by_hand(platform, "3600000"))
    eventually(lambda: customer_topic(platform).config_drift(), timeout=30, what="the altered config visible")

    code, described = topics(platform, "describe")
    assert code == 1
    drifting = {t["topic"]: t["drift"] for t in described["topics"] if not t["healthy"]}
    assert drifting == {platform.kafka.topic(CUSTOMER): ["retention.ms=3600000 (wanted -1)"]}

    code, ensured = topics(platform, "ensure")
    assert code == 0, ensured
    assert ensured["repaired"] == {platform.kafka.topic(CUSTOMER): ["retention.ms"]}
    assert ensured["created"] == []

    code, described = topics(platform, "describe")
    assert code == 0, described
    customer = next(t for t in described["topics"] if t["topic"] == platform.kafka.topic(CUSTOMER))
    assert customer["configs"]["retention.ms"] == "-1"
