"""The envelope carries the W3C trace context: CloudEvents distributed-tracing headers and the plain W3C ones."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from shared.events import EventEnvelope, asyncapi
from shared.events.customer import CustomerErasedV1

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def envelope(**trace: str) -> EventEnvelope:
    return EventEnvelope.wrap(
        CustomerErasedV1(customer_id=uuid4()),
        source="/crm/customer",
        aggregate_id=uuid4(),
        aggregate_version=3,
        time=datetime(2026, 1, 1, tzinfo=UTC),
        **trace,  # type: ignore[arg-type]
    )


def test_trace_context_travels_as_cloudevents_and_plain_w3c_headers() -> None:
    traced = envelope(traceparent=TRACEPARENT, tracestate="vendor=a")
    headers = traced.headers()
    assert headers["ce_traceparent"] == headers["traceparent"] == TRACEPARENT
    assert headers["ce_tracestate"] == headers["tracestate"] == "vendor=a"


def test_a_traced_envelope_round_trips_through_kafka_headers() -> None:
    traced = envelope(traceparent=TRACEPARENT)
    pairs = [(k, v.encode()) for k, v in traced.headers().items()]
    rebuilt = EventEnvelope.from_kafka(pairs, traced.body())
    assert rebuilt == traced
    assert rebuilt.traceparent == TRACEPARENT
    assert rebuilt.tracestate is None


def test_without_a_trace_no_trace_header_is_sent_and_old_records_still_read() -> None:
    plain = envelope()
    assert not {"traceparent", "tracestate", "ce_traceparent", "ce_tracestate"} & set(plain.headers())
    pairs = [(k, v.encode()) for k, v in plain.headers().items()]
    assert EventEnvelope.from_kafka(pairs, plain.body()).traceparent is None


def test_a_malformed_traceparent_does_not_make_the_event_unreadable() -> None:
    odd = envelope(traceparent="garbage")
    pairs = [(k, v.encode()) for k, v in odd.headers().items()]
    assert EventEnvelope.from_kafka(pairs, odd.body()).traceparent == "garbage"


def test_the_asyncapi_document_names_the_trace_headers() -> None:
    headers = asyncapi.document()["components"]["schemas"]["CloudEventHeaders"]["properties"]
    assert {"ce_traceparent", "ce_tracestate", "traceparent", "tracestate"} <= set(headers)
    assert "ce_traceparent" not in asyncapi.document()["components"]["schemas"]["CloudEventHeaders"]["required"]
