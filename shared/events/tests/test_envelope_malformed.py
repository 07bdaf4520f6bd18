"""A record that is not a valid envelope is `MalformedEnvelope` (dead-lettered), whatever is wrong with it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.events import EventEnvelope
from shared.events.envelope import MalformedEnvelope
from shared.events.marketing import UnsubscribedV1


def good() -> EventEnvelope:
    customer = uuid.uuid4()
    event = UnsubscribedV1(customer_id=customer, channel="email", unsubscribed_at=datetime.now(UTC))
    return EventEnvelope.wrap(event, source="/crm/marketing", aggregate_id=customer, aggregate_version=1,
                              time=datetime.now(UTC))  # fmt: skip


def headers(envelope: EventEnvelope, **replace: bytes) -> list[tuple[str, bytes]]:
    return [(k, replace.get(k, v.encode())) for k, v in envelope.headers().items()]


def test_the_good_record_parses() -> None:
    envelope = good()
    assert EventEnvelope.from_kafka(headers(envelope), envelope.body()).id == envelope.id


@pytest.mark.parametrize(
    ("header", "value", "body"),
    [
        ("ce_type", b"\xff\xfe", None),  # not UTF-8: was a UnicodeDecodeError that escaped the dead-letter path
        ("ce_time", b"yesterday", None),
        (None, None, b"{not json"),
        (None, None, b"\xff\xfe"),
    ],
)
def test_a_broken_record_is_malformed(header: str | None, value: bytes | None, body: bytes | None) -> None:
    envelope = good()
    pairs = headers(envelope, **({header: value} if header and value is not None else {}))
    with pytest.raises(MalformedEnvelope):
        EventEnvelope.from_kafka(pairs, body if body is not None else envelope.body())
