"""The CloudEvents 1.0 envelope around every public event, and its Kafka binding.

On Kafka the envelope travels in CloudEvents *binary* mode: the attributes are
`ce_*` headers and the record value is the event data as JSON, so a plain JSON
consumer can read the value while a CloudEvents-aware one gets every attribute.

The trace context of the publishing step travels as the CloudEvents distributed-tracing
extension (`ce_traceparent`, `ce_tracestate`) and again under the plain W3C names
(`traceparent`, `tracestate`), which OpenTelemetry-instrumented Kafka consumers read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.events.base import PublicEvent
from shared.events.timestamps import IsoDateTime

SPECVERSION: Literal["1.0"] = "1.0"
CONTENT_TYPE: Literal["application/json"] = "application/json"
_NAMESPACE = uuid.UUID("6f1d3c1e-8a51-4f0e-9a57-5f0b6c2d7a10")
_ATTRIBUTES = ("id", "source", "type", "specversion", "time", "subject", "dataschema")
_EXTENSIONS = ("aggregateid", "aggregateversion", "correlationid", "sequence", "traceparent", "tracestate")
_TRACE_CONTEXT = ("traceparent", "tracestate")


class MalformedEnvelope(ValueError):
    """A Kafka record that does not carry a valid CloudEvents envelope."""


def schema_uri(event_type: str) -> str:
    """The `dataschema` of an event type: names its committed JSON Schema file."""
    return f"urn:crm:schema:{event_type}"


def event_id(source: str, aggregate_id: uuid.UUID, aggregate_version: int) -> str:
    """A deterministic event id, so a republished event keeps its id and dedupes."""
    return str(uuid.uuid5(_NAMESPACE, f"{source}/{aggregate_id}/{aggregate_version}"))


class EventEnvelope(BaseModel):
    """CloudEvents 1.0 attributes, the aggregate's id and version, and the event data."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str
    type: str
    specversion: Literal["1.0"] = SPECVERSION
    time: IsoDateTime
    subject: str | None = None
    """The customer the event is about; absent for events about a product, campaign or account."""
    datacontenttype: Literal["application/json"] = CONTENT_TYPE
    dataschema: str
    aggregateid: str
    aggregateversion: int
    correlationid: str | None = None
    sequence: int | None = None
    traceparent: str | None = None
    """W3C `traceparent` of the span that published the event (CloudEvents distributed tracing)."""
    tracestate: str | None = None
    """W3C `tracestate` travelling with `traceparent`, when the trace has one."""
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: PublicEvent,
        *,
        source: str,
        aggregate_id: uuid.UUID,
        aggregate_version: int,
        time: datetime,
        correlation_id: str | None = None,
        sequence: int | None = None,
        traceparent: str | None = None,
        tracestate: str | None = None,
    ) -> EventEnvelope:
        """Envelope `event`, raised by aggregate `aggregate_id` at `aggregate_version`."""
        return cls(
            id=event_id(source, aggregate_id, aggregate_version),
            source=source,
            type=event.event_type,
            time=time,
            subject=event.subject_id(),
            dataschema=schema_uri(event.event_type),
            aggregateid=str(aggregate_id),
            aggregateversion=aggregate_version,
            correlationid=correlation_id,
            sequence=sequence,
            traceparent=traceparent,
            tracestate=tracestate,
            data=event.model_dump(mode="json"),
        )

    @property
    def key(self) -> bytes:
        """The Kafka key: the customer id, so one customer's events stay in order (else the aggregate's)."""
        return (self.subject or self.aggregateid).encode()

    def body(self) -> bytes:
        """The Kafka record value: the event data as compact JSON."""
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode()

    def headers(self) -> dict[str, str]:
        """CloudEvents binary-mode headers (`ce_*` plus `content-type`), and the plain W3C trace headers."""
        values = self.model_dump(mode="json", include=set(_ATTRIBUTES + _EXTENSIONS))
        headers = {f"ce_{k}": str(v) for k, v in values.items() if v is not None}
        headers["content-type"] = self.datacontenttype
        headers |= {k: str(values[k]) for k in _TRACE_CONTEXT if values.get(k) is not None}
        return headers

    @classmethod
    def from_kafka(
        cls, headers: Mapping[str, bytes | str] | Iterable[tuple[str, bytes]], value: bytes
    ) -> EventEnvelope:
        """Rebuild the envelope from a record's headers and value; `MalformedEnvelope` if it is not one."""
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        attrs: dict[str, Any] = {}
        try:
            for name, raw in pairs:
                if name.startswith("ce_"):
                    attrs[name[3:]] = raw.decode() if isinstance(raw, bytes) else raw
            attrs["data"] = json.loads(value)
            return cls.model_validate(attrs)
        except ValueError as exc:
            raise MalformedEnvelope(str(exc)) from exc
