"""`crm dlq` without servers: parsing dead letters and redrive markers, the redrive itself on a fake producer."""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import pytest
from aiokafka import ConsumerRecord
from typer.testing import CliRunner

from crm import dlq
from crm.cli import app
from crm.dlq import REDRIVEN, DeadLetter, parse_dead_letters, redrive
from shared.events.topics import CONSUMER_GROUPS
from shared.platform.kafka import KafkaSettings

SOURCE = "p.crm.marketing.v1"


def _record(partition: int, offset: int, headers: dict[str, str], value: bytes = b"{}") -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="p.crm.dlq.customer.v1",
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key="客户".encode(),
        value=value,
        checksum=None,
        serialized_key_size=6,
        serialized_value_size=len(value),
        headers=tuple((k, v.encode()) for k, v in headers.items()),
    )


def _dead(offset: int, failed_at: str, partition: int = 0) -> ConsumerRecord[bytes, bytes]:
    return _record(
        partition,
        offset,
        {
            "ce_id": f"e{offset}",
            "ce_type": "crm.marketing.unsubscribed.v1",
            "dlq_topic": SOURCE,
            "dlq_partition": "3",
            "dlq_offset": str(offset + 10),
            "dlq_error": "AggregateNotFoundError: customer not found",
            "dlq_failed_at": failed_at,
        },
        value=json.dumps({"name": "王小明"}, ensure_ascii=False).encode(),
    )


def test_markers_mark_letters_redriven_and_are_not_letters_themselves() -> None:
    records = [_dead(0, "2026-01-01T00:00:02+00:00"), _dead(1, "2026-01-01T00:00:01+00:00", partition=1)]
    records.append(_record(0, 2, {REDRIVEN: "0:0", "dlq_group": "customer"}, value=b""))
    letters = parse_dead_letters(records)
    assert [(d.id, d.redriven) for d in letters] == [("1:1", False), ("0:0", True)]


def test_a_letter_goes_back_with_its_original_headers_only() -> None:
    (letter,) = parse_dead_letters([_dead(0, "2026-01-01T00:00:00+00:00")])
    assert letter.original_headers() == [("ce_id", b"e0"), ("ce_type", b"crm.marketing.unsubscribed.v1")]
    assert letter.source_topic == SOURCE
    summary = letter.summary()
    assert summary["source"] == f"{SOURCE}[3]@10"
    assert summary["key"] == "客户"
    assert "not found" in summary["error"]


class FakeProducer:
    """Records what would be sent to Kafka."""

    sent: ClassVar[list[tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]]] = []

    def __init__(self, **_: Any) -> None:
        FakeProducer.sent = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send_and_wait(
        self, topic: str, value: bytes, *, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        FakeProducer.sent.append((topic, value, key, headers))


def test_redrive_republishes_then_records_each_pending_letter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dlq, "AIOKafkaProducer", FakeProducer)
    letters = parse_dead_letters([_dead(0, "a"), _dead(1, "b"), _record(0, 2, {REDRIVEN: "0:1"}, value=b"")])
    sent = asyncio.run(redrive(KafkaSettings(topic_prefix="p."), "customer", letters))
    assert [d.id for d in sent] == ["0:0"]
    (original, marker) = FakeProducer.sent
    assert original[0] == SOURCE
    assert original[1] == letters[0].value
    assert original[2] == "客户".encode()
    assert all(not name.startswith("dlq_") for name, _ in original[3])
    assert marker[0] == "p.crm.dlq.customer.v1"
    assert (REDRIVEN, b"0:0") in marker[3]


def _fake_letters(monkeypatch: pytest.MonkeyPatch, letters: list[DeadLetter]) -> None:
    async def found(_: KafkaSettings, group: str) -> list[DeadLetter]:
        return letters

    monkeypatch.setattr(dlq, "dead_letters", found)


def test_cli_list_show_and_exit_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    letters = parse_dead_letters([_dead(0, "a"), _dead(1, "b"), _record(0, 2, {REDRIVEN: "0:1"}, value=b"")])
    _fake_letters(monkeypatch, letters)
    runner = CliRunner()
    listed = runner.invoke(app, ["dlq", "list", "customer", "--json"])
    assert listed.exit_code == 0
    assert [d["id"] for d in json.loads(listed.stdout)] == ["0:0"]
    everything = runner.invoke(app, ["dlq", "list", "customer", "--all", "--json"])
    assert [d["redriven"] for d in json.loads(everything.stdout)] == [False, True]
    shown = runner.invoke(app, ["dlq", "show", "customer", "0:0", "--json"])
    assert json.loads(shown.stdout)["value"] == '{"name": "王小明"}'
    assert runner.invoke(app, ["dlq", "show", "customer", "9:9"]).exit_code == dlq.NOT_FOUND
    assert runner.invoke(app, ["dlq", "list", "nobody"]).exit_code == 2
    table = runner.invoke(app, ["dlq", "list", "customer"])
    assert "0:0" in table.stdout
    every = runner.invoke(app, ["dlq", "list", "--json"])  # no group: every group, each letter naming its own
    assert every.exit_code == 0, every.output
    assert sorted({d["group"] for d in json.loads(every.stdout)}) == sorted(CONSUMER_GROUPS)


def test_cli_redrive_selects_by_id_and_reports_unknown_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    letters = parse_dead_letters([_dead(0, "a"), _dead(1, "b")])
    _fake_letters(monkeypatch, letters)
    monkeypatch.setattr(dlq, "AIOKafkaProducer", FakeProducer)
    runner = CliRunner()
    result = runner.invoke(app, ["dlq", "redrive", "customer", "--id", "0:1", "--json"])
    assert json.loads(result.stdout) == {"redriven": ["0:1"], "already_redriven": []}
    assert runner.invoke(app, ["dlq", "redrive", "customer", "--id", "7:7"]).exit_code == dlq.NOT_FOUND


def test_cli_reports_an_unreachable_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    async def down(_: KafkaSettings, group: str) -> list[DeadLetter]:
        raise ConnectionError("no broker")

    monkeypatch.setattr(dlq, "dead_letters", down)
    assert CliRunner().invoke(app, ["dlq", "list", "customer"]).exit_code == dlq.UNREACHABLE
