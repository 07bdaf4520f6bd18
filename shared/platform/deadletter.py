"""Dead letters: messages a consumer cannot process, parked with their error.

The original key, value and headers are kept byte for byte, plus `dlq_*` headers
saying where the message came from and why it failed, so it can be inspected and
redriven after a fix. Parking it lets the partition move on.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker

from shared.events.topics import dead_letter_topic
from shared.platform.kafka import KafkaSettings
from shared.platform.metrics import DEAD_LETTERED

log = logging.getLogger("crm.deadletter")


def dead_letter_headers(record: ConsumerRecord[bytes, bytes], group: str, error: BaseException) -> dict[str, str]:
    """The record's own headers plus where it came from and why it failed."""
    headers = {name: value.decode(errors="replace") for name, value in record.headers}
    return headers | {
        "dlq_group": group,
        "dlq_topic": record.topic,
        "dlq_partition": str(record.partition),
        "dlq_offset": str(record.offset),
        "dlq_error": f"{type(error).__name__}: {error}"[:2000],
        "dlq_failed_at": datetime.now(UTC).isoformat(),
    }


async def dead_letter(
    broker: KafkaBroker, kafka: KafkaSettings, group: str, record: ConsumerRecord[bytes, bytes], error: BaseException
) -> None:
    """Park `record` on the group's dead-letter topic; returns once Kafka acknowledged."""
    await broker.publish(
        record.value or b"",
        kafka.topic(dead_letter_topic(group)),
        key=record.key,
        headers=dead_letter_headers(record, group, error),
    )
    DEAD_LETTERED.labels(group).inc()
    cid = dict(record.headers).get("ce_correlationid", b"").decode(errors="replace") or None
    log.warning(
        "dead-lettered %s[%s]@%s: %s",
        record.topic,
        record.partition,
        record.offset,
        error,
        extra={"correlation_id": cid},
    )
