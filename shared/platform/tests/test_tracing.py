"""One trace from an HTTP request, through the stored event and the relay's Kafka headers, into a consumer.

Spans go to the SDK's in-memory exporter; no exporter is configured by default, so
nothing here (or in production without `OTEL_TRACES_EXPORTER`) touches the network.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI
from fastapi.testclient import TestClient
from faststream.kafka import TestKafkaBroker
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from shared.events import EventEnvelope, PublicEvent
from shared.events.customer import CustomerConsentChangedV1, CustomerErasedV1
from shared.events.topics import CUSTOMER
from shared.platform import tracing
from shared.platform.consuming import OUTCOME, EventConsumer
from shared.platform.eventstore import MAPPER_TOPIC, EventStoreSettings, persistence_env
from shared.platform.http import instrument
from shared.platform.kafka import KafkaSettings, make_broker
from shared.platform.logs import JsonFormatter
from shared.platform.outbox import Relay
from shared.platform.relaying import tracking_recorder

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"

_memory = InMemorySpanExporter()
_attached: list[TracerProvider] = []


class WhileRecording(SimpleSpanProcessor):
    """Exports only while a test here records, so other tests' spans never pile up in memory."""

    recording = False

    def on_end(self, span: ReadableSpan) -> None:
        if self.recording:
            super().on_end(span)


_processor = WhileRecording(_memory)


class Pet(Aggregate):
    """A stand-in aggregate; its events map to a consent change about the pet's owner."""

    @event("Adopted")
    def __init__(self, name: str) -> None:
        self.name = name


class Pets(Application[UUID]):
    env = {"MAPPER_TOPIC": MAPPER_TOPIC}  # noqa: RUF012


def to_public(domain_event: Any) -> PublicEvent | None:
    return CustomerConsentChangedV1(customer_id=domain_event.originator_id, channel="email", granted=True)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider (installed once, as `logs.configure` does) exporting to memory."""
    provider = tracing.configure("crm-tests", environ={})
    assert isinstance(provider, TracerProvider)
    if provider not in _attached:
        provider.add_span_processor(_processor)
        _attached.append(provider)
    _memory.clear()
    _processor.recording = True
    try:
        yield _memory
    finally:
        _processor.recording = False
        _memory.clear()


def pets_api(pets: Pets) -> TestClient:
    app = FastAPI()
    instrument(app, "pets", {})

    @app.post("/pets/{name}", status_code=201)
    def adopt(name: str) -> dict[str, str]:
        pet = Pet(name)
        pets.save(pet)
        return {"id": str(pet.id)}

    return TestClient(app)


def relay_for(pets: Pets, env: dict[str, str]) -> Relay:
    async def publish(envelopes: Any) -> None:
        return None

    return Relay(
        service="pets", app=pets, tracking=tracking_recorder("pets", env), to_public=to_public, publish=publish
    )


def only(exporter: InMemorySpanExporter, kind: SpanKind) -> ReadableSpan:
    found = [s for s in exporter.get_finished_spans() if s.kind == kind]
    assert len(found) == 1, [(s.name, s.kind) for s in exporter.get_finished_spans()]
    return found[0]


def hex_ids(span: ReadableSpan) -> tuple[str, str]:
    assert span.context is not None
    return trace.format_trace_id(span.context.trace_id), trace.format_span_id(span.context.span_id)


def parent_id(span: ReadableSpan) -> str:
    assert span.parent is not None
    return trace.format_span_id(span.parent.span_id)


async def test_a_request_trace_reaches_the_stored_event_the_kafka_headers_and_the_consumer(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "pets.db")))
    pets = Pets(env=env)
    response = pets_api(pets).post("/pets/旺财", headers={"traceparent": TRACEPARENT, "tracestate": "vendor=1"})
    assert response.status_code == 201

    server = only(spans, SpanKind.SERVER)
    assert server.name == "POST /pets/{name}"
    assert parent_id(server) == CALLER_SPAN
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/pets/{name}"
    assert server.attributes["http.response.status_code"] == 201
    assert "旺财" not in json.dumps(dict(server.attributes), ensure_ascii=False), "no raw path: it may be personal"
    trace_id, server_span = hex_ids(server)
    assert trace_id == TRACE_ID

    # The stored domain event carries the server span's context.
    [notification] = pets.recorder.select_notifications(start=1, limit=10)
    stored = pets.mapper.to_domain_event(notification)
    assert tracing.carrier_of(stored) == {"traceparent": f"00-{TRACE_ID}-{server_span}-01", "tracestate": "vendor=1"}

    # The relay (later, another process) opens a PRODUCER span under it; the envelope carries that span.
    envelope = relay_for(pets, env).envelope(notification)
    assert envelope is not None
    producer = only(spans, SpanKind.PRODUCER)
    assert producer.name == "create crm.customer.v1"
    assert parent_id(producer) == server_span
    _, producer_span = hex_ids(producer)
    assert envelope.traceparent == f"00-{TRACE_ID}-{producer_span}-01"
    assert envelope.tracestate == "vendor=1"
    headers = envelope.headers()
    assert headers["traceparent"] == headers["ce_traceparent"] == envelope.traceparent
    assert headers["tracestate"] == headers["ce_tracestate"] == "vendor=1"

    # A consumer in another service continues the trace, and so do the events its handler stores.
    seen: list[str | None] = []

    def on_change(received: EventEnvelope, change: CustomerConsentChangedV1) -> None:
        current = tracing.current_ids()
        seen.append(current[0] if current else None)
        pets.save(Pet("reacted"))

    kafka = KafkaSettings()
    broker = make_broker(kafka)
    EventConsumer("crm-tests", {CustomerConsentChangedV1: on_change}, kafka, retry_delay=0).subscribe(broker)
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(envelope.body(), CUSTOMER, key=envelope.key, headers=headers)

    consumer = only(spans, SpanKind.CONSUMER)
    assert consumer.name == f"process {CUSTOMER}"
    assert hex_ids(consumer)[0] == TRACE_ID
    assert parent_id(consumer) == producer_span
    assert consumer.attributes is not None
    assert consumer.attributes[OUTCOME] == "handled"
    assert consumer.attributes["messaging.consumer.group.name"] == "crm-tests"
    assert consumer.attributes["messaging.message.id"] == envelope.id
    assert seen == [TRACE_ID]
    assert [s.name for s in spans.get_finished_spans()] == [server.name, producer.name, consumer.name], "one span a hop"
    reaction = pets.mapper.to_domain_event(pets.recorder.select_notifications(start=2, limit=1)[0])
    assert tracing.carrier_of(reaction)["traceparent"] == f"00-{TRACE_ID}-{hex_ids(consumer)[1]}-01"


def test_a_request_without_traceparent_starts_a_new_trace(spans: InMemorySpanExporter, tmp_path: Path) -> None:
    pets = Pets(env=persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "pets.db"))))
    assert pets_api(pets).post("/pets/rex", headers={"traceparent": "00-not-a-trace-01"}).status_code == 201
    server = only(spans, SpanKind.SERVER)
    assert server.parent is None
    trace_id, span_id = hex_ids(server)
    stored = pets.mapper.to_domain_event(pets.recorder.select_notifications(start=1, limit=1)[0])
    assert list(tracing.carrier_of(stored)) == ["traceparent"]
    assert tracing.carrier_of(stored)["traceparent"].startswith(f"00-{trace_id}-{span_id}-")


def test_probes_and_scrapes_make_no_spans(spans: InMemorySpanExporter, tmp_path: Path) -> None:
    client = pets_api(Pets(env=persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "pets.db")))))
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code == 200
    assert spans.get_finished_spans() == ()


def test_a_server_error_marks_the_span_failed(spans: InMemorySpanExporter) -> None:
    app = FastAPI()
    instrument(app, "pets", {})

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("broken")

    assert TestClient(app, raise_server_exceptions=False).get("/boom").status_code == 500
    server = only(spans, SpanKind.SERVER)
    assert server.status.status_code == StatusCode.ERROR


def test_events_stored_outside_any_trace_are_published_without_trace_headers(
    spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "pets.db")))
    pets = Pets(env=env)
    pets.save(Pet("Wangcai"))
    [notification] = pets.recorder.select_notifications(start=1, limit=1)
    envelope = relay_for(pets, env).envelope(notification)
    assert envelope is not None
    assert envelope.traceparent is None
    assert not {"traceparent", "ce_traceparent"} & set(envelope.headers())
    assert spans.get_finished_spans() == ()


async def test_a_message_without_trace_headers_gets_a_root_span_and_a_bad_one_fails_it(
    spans: InMemorySpanExporter,
) -> None:
    def reject(received: EventEnvelope, erased: CustomerErasedV1) -> None:
        raise ValueError("cannot take this one")

    kafka = KafkaSettings()
    broker = make_broker(kafka)
    EventConsumer("crm-tests", {CustomerErasedV1: reject}, kafka, retry_delay=0).subscribe(broker)
    envelope = EventEnvelope.wrap(
        CustomerErasedV1(customer_id=uuid4()),
        source="/crm/customer",
        aggregate_id=uuid4(),
        aggregate_version=1,
        time=datetime(2026, 1, 1, tzinfo=UTC),
    )
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(envelope.body(), CUSTOMER, key=envelope.key, headers=envelope.headers())
    consumers = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert len(consumers) == 1
    assert consumers[0].parent is None
    assert consumers[0].status.status_code == StatusCode.ERROR
    assert consumers[0].attributes is not None
    assert consumers[0].attributes[OUTCOME] == "dead_lettered"


def test_consume_span_takes_aiokafka_headers_plain_first_then_cloudevents(spans: InMemorySpanExporter) -> None:
    other = f"00-{'1' * 32}-{'2' * 16}-01"
    with tracing.consume_span([("ce_traceparent", other.encode())], "process t", {"a": 1}) as span:
        assert trace.format_trace_id(span.get_span_context().trace_id) == "1" * 32
    both = [("ce_traceparent", other.encode()), ("traceparent", TRACEPARENT.encode())]
    assert tracing.kafka_carrier(both) == {"traceparent": TRACEPARENT}
    with tracing.consume_span(both, "process t") as span:
        assert trace.format_trace_id(span.get_span_context().trace_id) == TRACE_ID
    assert [parent_id(s) for s in spans.get_finished_spans()] == ["2" * 16, CALLER_SPAN]


def test_context_round_trips_through_dicts_and_kafka_headers(spans: InMemorySpanExporter) -> None:
    context = tracing.extract({"traceparent": TRACEPARENT, "tracestate": "a=b"})
    assert tracing.inject(context) == {"traceparent": TRACEPARENT, "tracestate": "a=b"}
    headers = tracing.to_kafka_headers(context)
    assert headers == [("traceparent", TRACEPARENT.encode()), ("tracestate", b"a=b")]
    assert tracing.inject(tracing.from_kafka_headers(headers)) == tracing.inject(context)
    assert tracing.inject(tracing.from_kafka_headers(None)) == {}
    assert tracing.inject() == {}, "outside any span there is nothing to propagate"


def test_log_lines_carry_the_trace_and_span_ids(spans: InMemorySpanExporter) -> None:
    record = logging.LogRecord("crm.test", logging.INFO, __file__, 1, "hello", (), None)
    assert "trace_id" not in json.loads(JsonFormatter("pets").format(record))
    with tracing.tracer().start_as_current_span("work", context=tracing.extract({"traceparent": TRACEPARENT})) as span:
        line = json.loads(JsonFormatter("pets").format(record))
    assert line["trace_id"] == TRACE_ID
    assert line["span_id"] == trace.format_span_id(span.get_span_context().span_id)


def test_no_exporter_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    assert tracing.span_exporters() == []
    assert tracing.span_exporters({"OTEL_TRACES_EXPORTER": "none"}) == []
    provider = tracing.build_provider("pets", {})
    assert provider._active_span_processor._span_processors == ()  # nothing would ever leave the process


def test_exporters_named_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.local:4318")
    console, otlp = tracing.span_exporters({"OTEL_TRACES_EXPORTER": "console, otlp"})
    assert isinstance(console, ConsoleSpanExporter)
    assert isinstance(otlp, OTLPSpanExporter)
    assert otlp._endpoint == "http://collector.local:4318/v1/traces"
    with pytest.raises(tracing.UnknownExporter, match="jaeger"):
        tracing.span_exporters({"OTEL_TRACES_EXPORTER": "jaeger"})


def test_service_name_and_sampler_come_from_the_standard_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    assert tracing.build_provider("customer").resource.attributes["service.name"] == "customer"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "customer-eu")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    provider = tracing.build_provider("customer")
    assert provider.resource.attributes["service.name"] == "customer-eu"
    assert provider.sampler is ALWAYS_OFF
    # An unsampled trace still propagates: the next hop sees the same trace id, flagged not sampled.
    with provider.get_tracer("t").start_as_current_span("s", context=tracing.extract({"traceparent": TRACEPARENT})):
        assert tracing.inject()["traceparent"].startswith(f"00-{TRACE_ID}-")
        assert tracing.inject()["traceparent"].endswith("-00")


def test_the_console_exporter_writes_one_json_object_a_line_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    provider = tracing.build_provider("pets", {"OTEL_TRACES_EXPORTER": "console"})
    with provider.get_tracer("t").start_as_current_span("s", context=tracing.extract({"traceparent": TRACEPARENT})):
        pass
    provider.shutdown()
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert json.loads(line)["context"]["trace_id"] == f"0x{TRACE_ID}"
