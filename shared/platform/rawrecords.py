"""Our consumers read Kafka records as bytes: FastStream must not decode them on its way to our handlers.

Why: FastStream parses a record before calling the subscriber, decoding every header as
UTF-8 and, when the `content-type` header says JSON (ours always do), the body as JSON.
A record with a non-UTF-8 header or a body that is not JSON raised inside FastStream,
before our handler could send it to the dead-letter topic; with `NACK_ON_ERROR` the
record was read again forever and its partition stopped in every consumer group, with
nothing logged. With this parser and decoder FastStream hands over the record untouched
(`message.raw_message`), and our handlers decide what is a poison record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias

from aiokafka.structs import ConsumerRecord
from faststream.message import StreamMessage

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Parse: TypeAlias = Callable[[Any], Awaitable[StreamMessage[Any]]]


def _readable(record: Record) -> Record:
    """The record with header values FastStream can decode (undecodable bytes replaced); the original is kept."""
    headers: Sequence[tuple[str, bytes]] = record.headers or ()
    try:
        for _, value in headers:
            value.decode("utf-8")
    except (UnicodeDecodeError, AttributeError):
        readable = [(name, value.decode("utf-8", "replace").encode() if isinstance(value, bytes) else b"")
                    for name, value in headers]  # fmt: skip
        return dataclasses.replace(record, headers=readable)
    return record


async def parse_record(record: Record, original: Parse) -> StreamMessage[Any]:
    """FastStream's parser on a readable copy; `raw_message` stays the record as it was on the topic."""
    message = await original(_readable(record))
    message.raw_message = record
    return message


async def parse_batch(records: tuple[Record, ...], original: Parse) -> StreamMessage[Any]:
    """The same for a batch subscriber."""
    message = await original(tuple(_readable(r) for r in records))
    message.raw_message = records
    return message


async def raw_body(message: StreamMessage[Any]) -> Any:
    """The body as bytes (a list of bytes for a batch): decoding is the handler's job."""
    return message.body
