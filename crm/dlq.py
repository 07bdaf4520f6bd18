"""`crm dlq list|show|redrive`: inspect dead-lettered messages and send them back after a fix.

A consumer group parks what it cannot process on `crm.dlq.<group>.v1` with the
original key, value and headers plus `dlq_*` headers (see shared/platform/deadletter.py).
After the cause is fixed, `redrive` re-publishes the original record to its source
topic. Each redrive is recorded on the dead-letter topic itself by a marker record
(empty value, header `dlq_redriven=<partition>:<offset>`), so the state lives in Kafka
next to the messages, survives any operator's machine, and a message is redriven at
most once by this tool. A crash between the re-publish and the marker can redrive a
message a second time; consumers dedupe by event id (delivery is at least once), so
it is still applied once.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from crm.progress import progress_bar
from shared.events.topics import CONSUMER_GROUPS, dead_letter_topic
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import admin_client

REDRIVEN = "dlq_redriven"
"""Header of a marker record: which dead letter (`partition:offset`) was redriven."""
REDRIVEN_AT = "dlq_redriven_at"

OK, NOT_FOUND, UNREACHABLE = 0, 1, 2
"""Exit codes of the `crm dlq` commands."""

app = typer.Typer(help="Dead-lettered messages: list, show, redrive.", no_args_is_help=True)


@dataclass(frozen=True)
class DeadLetter:
    """One parked message: where it sits in the DLQ, the original record, and why it failed."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]
    redriven: bool = False

    @property
    def id(self) -> str:
        """Its address in the dead-letter topic, `partition:offset` (stable, used by show/redrive)."""
        return f"{self.partition}:{self.offset}"

    @property
    def error(self) -> str:
        """Why the consumer could not process it."""
        return self.headers.get("dlq_error", "")

    @property
    def source_topic(self) -> str:
        """The (physical) topic it was consumed from, where a redrive sends it back."""
        return self.headers.get("dlq_topic", "")

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers it had on its source topic: everything but the `dlq_*` additions."""
        return [(k, v.encode()) for k, v in self.headers.items() if not k.startswith("dlq_")]

    def summary(self) -> dict[str, Any]:
        """Script-friendly description (the value as text, undecodable bytes replaced)."""
        return {
            "id": self.id,
            "key": self.key.decode(errors="replace") if self.key is not None else None,
            "type": self.headers.get("ce_type"),
            "source": f"{self.source_topic}[{self.headers.get('dlq_partition')}]@{self.headers.get('dlq_offset')}",
            "error": self.error,
            "failed_at": self.headers.get("dlq_failed_at"),
            "redriven": self.redriven,
        }


def parse_dead_letters(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[DeadLetter]:
    """Dead letters in DLQ order, each marked redriven if a marker record names it."""
    redriven: set[str] = set()
    letters: list[DeadLetter] = []
    for record in records:
        headers = {name: value.decode(errors="replace") for name, value in record.headers}
        if REDRIVEN in headers:
            redriven.add(headers[REDRIVEN])
            continue
        letters.append(DeadLetter(record.partition, record.offset, record.key, record.value or b"", headers))
    return [
        DeadLetter(d.partition, d.offset, d.key, d.value, d.headers, redriven=d.id in redriven)
        for d in sorted(letters, key=lambda d: (d.headers.get("dlq_failed_at", ""), d.partition, d.offset))
    ]


async def topic_partitions(kafka: KafkaSettings, topic: str) -> list[TopicPartition]:
    """The partitions of a physical topic; none if it does not exist (never auto-created).

    Listing first matters: describing a missing topic is a metadata request that may
    auto-create it with the broker's defaults on clusters where auto-creation is on.
    """
    async with admin_client(kafka) as admin:
        if topic not in await admin.list_topics():
            return []
        described = await admin.describe_topics([topic])
    found = [d for d in described if d["topic"] == topic and d["error_code"] == 0]
    return sorted(TopicPartition(topic, p["partition"]) for d in found for p in d["partitions"])


async def read_topic(kafka: KafkaSettings, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a physical topic, from the beginning to its current end."""
    partitions = await topic_partitions(kafka, topic)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers.split(","), enable_auto_commit=False, **kafka.client_options()
    )
    try:
        await consumer.start()
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records.extend(r for r in batch if r.offset < ends[TopicPartition(r.topic, r.partition)])
        return records
    finally:
        await consumer.stop()


async def dead_letters(kafka: KafkaSettings, group: str) -> list[DeadLetter]:
    """The dead letters of consumer group `group`."""
    return parse_dead_letters(await read_topic(kafka, kafka.topic(dead_letter_topic(group))))


async def redrive(
    kafka: KafkaSettings, group: str, letters: Sequence[DeadLetter], progress: Progress | None = None
) -> list[DeadLetter]:
    """Send each not-yet-redriven letter back to its source topic, then record it; the ones sent."""
    pending = [d for d in letters if not d.redriven]
    task = progress.add_task("redriving", total=len(pending)) if progress else None
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka.bootstrap_servers.split(","),
        enable_idempotence=True,
        acks="all",
        **kafka.client_options(),
    )
    sent: list[DeadLetter] = []
    try:
        await producer.start()
        for letter in pending:
            await producer.send_and_wait(
                letter.source_topic, letter.value, key=letter.key, headers=letter.original_headers()
            )
            await producer.send_and_wait(
                kafka.topic(dead_letter_topic(group)),
                b"",
                key=letter.key,
                headers=[(REDRIVEN, letter.id.encode()), ("dlq_group", group.encode())],
            )
            sent.append(letter)
            if progress is not None and task is not None:
                progress.advance(task)
    finally:
        await producer.stop()
    return sent


def _group(group: str) -> str:
    if group not in CONSUMER_GROUPS:
        raise typer.BadParameter(f"unknown group {group!r}; one of: {', '.join(CONSUMER_GROUPS)}")
    return group


GroupArg = Annotated[str, typer.Argument(help=f"Consumer group: {', '.join(CONSUMER_GROUPS)}.", callback=_group)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _load(group: str) -> list[DeadLetter]:
    try:
        with Console(stderr=True).status(f"reading dead letters of {group}"):
            return asyncio.run(asyncio.wait_for(dead_letters(KafkaSettings(), group), 60))
    except Exception as exc:
        typer.echo(f"error: Kafka unreachable: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(UNREACHABLE) from exc


def _optional_group(group: str | None) -> str | None:
    return None if group is None else _group(group)


@app.command("list")
def list_(
    group: Annotated[
        str | None,
        typer.Argument(
            help=f"Consumer group: {', '.join(CONSUMER_GROUPS)} (default: every group).", callback=_optional_group
        ),
    ] = None,
    as_json: JsonOpt = False,
    include_redriven: Annotated[bool, typer.Option("--all", help="Include messages already redriven.")] = False,
) -> None:
    """List dead-lettered messages with their group, error and source (every group unless one is named)."""
    groups = [group] if group else list(CONSUMER_GROUPS)
    letters = [(g, d) for g in groups for d in _load(g) if include_redriven or not d.redriven]
    if as_json:
        typer.echo(json.dumps([d.summary() | {"group": g} for g, d in letters], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Dead letters of {group or 'every group'}")
    for column in ("group", "id", "type", "source", "failed at", "redriven", "error"):
        table.add_column(column)
    for g, d in letters:
        s = d.summary()
        table.add_row(g, s["id"], s["type"] or "-", s["source"], s["failed_at"] or "-", str(d.redriven), d.error)
    per_group = Counter(g for g, _ in letters)
    table.caption = "  ".join(f"{g}: {per_group[g]}" for g in groups)  # an empty group is read, not skipped
    Console().print(table)


@app.command("show")
def show(
    group: GroupArg,
    message_id: Annotated[str, typer.Argument(help="`partition:offset` from list.")],
    as_json: JsonOpt = False,
) -> None:
    """Show one dead letter: every header and the value."""
    letter = next((d for d in _load(group) if d.id == message_id), None)
    if letter is None:
        typer.echo(f"error: no dead letter {message_id} in group {group}", err=True)
        raise typer.Exit(NOT_FOUND)
    data = letter.summary() | {"headers": letter.headers, "value": letter.value.decode(errors="replace")}
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    for name, value in data.items():
        if name != "headers":
            console.print(f"[bold]{name}[/bold]: {value}")
    for name, value in letter.headers.items():
        console.print(f"  {name}: {value}")


@app.command("redrive")
def redrive_command(
    group: GroupArg,
    message_ids: Annotated[
        list[str] | None, typer.Option("--id", help="Repeatable `partition:offset`; default: all not yet redriven.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-publish dead letters to their source topic (after the cause is fixed); each one once."""
    letters = _load(group)
    if message_ids:
        missing = set(message_ids) - {d.id for d in letters}
        if missing:
            typer.echo(f"error: no dead letter {', '.join(sorted(missing))} in group {group}", err=True)
            raise typer.Exit(NOT_FOUND)
        letters = [d for d in letters if d.id in message_ids]
    try:
        with progress_bar(quiet=as_json, unit="msg") as progress:
            sent = asyncio.run(redrive(KafkaSettings(), group, letters, progress))
    except Exception as exc:
        typer.echo(f"error: Kafka unreachable: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(UNREACHABLE) from exc
    skipped = [d.id for d in letters if d.redriven]
    if as_json:
        typer.echo(json.dumps({"redriven": [d.id for d in sent], "already_redriven": skipped}, indent=2))
        return
    typer.echo(f"redrove {len(sent)}; {len(skipped)} already redriven")
