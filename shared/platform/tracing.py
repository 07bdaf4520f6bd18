"""OpenTelemetry tracing: one trace from the HTTP edge, through stored events and Kafka, into every consumer.

The W3C trace context (`traceparent`, `tracestate`) travels where the correlation id
travels: the HTTP middleware continues the caller's trace (or starts one) with a SERVER
span; the event store stamps the current context on each new domain event; the relay,
later and in another process, opens a PRODUCER span as a child of that stored context
and sends *its* context as Kafka headers; a consumer opens a CONSUMER span as a child of
the headers' context. Events caused by a consumer's handler are stamped in turn, so a
trace follows a user action across services.

Spans are always created (so trace ids reach logs and Kafka headers), but exported only
when `OTEL_TRACES_EXPORTER` names an exporter: `none` (the default), `otlp` (OTLP over
HTTP, endpoint from `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`),
or `console` (one JSON object a line on stderr), comma-separated for several. The
standard `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER` and
`OTEL_TRACES_SAMPLER_ARG` are honoured by the SDK itself.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeAlias

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
FIELDS = (TRACEPARENT, TRACESTATE)
"""The W3C Trace Context fields, as HTTP headers, stored-event attributes and Kafka headers."""
CLOUDEVENTS_PREFIX = "ce_"
"""Kafka headers of the CloudEvents distributed-tracing extension: `ce_traceparent`, `ce_tracestate`."""
EXPORTER_ENV = "OTEL_TRACES_EXPORTER"
SCOPE = "crm"
"""Instrumentation scope of the platform's own spans."""

KafkaHeaders: TypeAlias = Iterable[tuple[str, bytes]] | Mapping[str, bytes | str] | None
"""Record headers as aiokafka gives them (a sequence of `(name, bytes)`), or a mapping."""
Attributes: TypeAlias = Mapping[str, AttributeValue]

_W3C = TraceContextTextMapPropagator()
"""Always W3C, whatever `OTEL_PROPAGATORS` says: it is what our headers and envelopes carry."""
_lock = threading.Lock()
_installed: trace.TracerProvider | None = None


class UnknownExporter(ValueError):
    """`OTEL_TRACES_EXPORTER` names an exporter this platform does not ship."""


def _console_line(span: ReadableSpan) -> str:
    line: str = span.to_json(indent=None)
    return line + "\n"


def span_exporters(environ: Mapping[str, str] | None = None) -> list[SpanExporter]:
    """The exporters `OTEL_TRACES_EXPORTER` asks for; none unless set (no network by default)."""
    env = os.environ if environ is None else environ
    names = [n.strip().lower() for n in env.get(EXPORTER_ENV, "none").split(",") if n.strip()]
    exporters: list[SpanExporter] = []
    for name in names:
        if name == "none":
            continue
        if name == "console":
            # stderr, one object a line: stdout carries the JSON logs.
            exporters.append(ConsoleSpanExporter(out=sys.stderr, formatter=_console_line))
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())  # endpoint, headers, TLS: standard OTEL_EXPORTER_OTLP_* env
        else:
            raise UnknownExporter(f"{EXPORTER_ENV}={name!r}: expected none, otlp or console (comma-separated)")
    return exporters


def build_provider(service_name: str, environ: Mapping[str, str] | None = None) -> TracerProvider:
    """A tracer provider for `service_name` (`OTEL_SERVICE_NAME` wins) exporting as the environment says."""
    env = os.environ if environ is None else environ
    name = env.get("OTEL_SERVICE_NAME") or service_name  # explicit attributes would beat the SDK's own lookup
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    for exporter in span_exporters(env):
        # Console is for watching a process live: print each span as it ends. OTLP batches.
        processor = SimpleSpanProcessor if isinstance(exporter, ConsoleSpanExporter) else BatchSpanProcessor
        provider.add_span_processor(processor(exporter))
    return provider


def configure(service_name: str, environ: Mapping[str, str] | None = None) -> trace.TracerProvider:
    """Install the process's tracer provider, once; later calls return the installed one.

    A provider installed by someone else (an auto-instrumentation agent) is respected.
    Spans still end up in the process's exporters at exit: the SDK flushes on shutdown.
    """
    global _installed
    with _lock:
        if _installed is None:
            existing = trace.get_tracer_provider()
            if isinstance(existing, TracerProvider):
                _installed = existing
            else:
                _installed = build_provider(service_name, environ)
                trace.set_tracer_provider(_installed)
        return _installed


@cache
def tracer() -> trace.Tracer:
    """The platform's tracer (no-op until `configure` ran: contexts still propagate).

    Cached: the SDK builds a new tracer per call, a quarter of a relay span's cost. One
    obtained before `configure` is the API's proxy, which follows the provider once set.
    """
    return trace.get_tracer(SCOPE)


def inject(context: Context | None = None) -> dict[str, str]:
    """The W3C fields of `context` (default: the current one); empty when there is no valid span."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier, context=context)
    return carrier


def extract(carrier: Mapping[str, str]) -> Context:
    """The context a W3C carrier names (an empty context when absent or malformed: a new root)."""
    return _W3C.extract(dict(carrier), context=Context())


def carrier_of(obj: Any) -> dict[str, str]:
    """The W3C fields stored as attributes on `obj` (a domain event), those that are set."""
    return {name: value for name in FIELDS if isinstance(value := getattr(obj, name, None), str) and value}


def to_kafka_headers(context: Context | None = None) -> list[tuple[str, bytes]]:
    """`context` (default: current) as Kafka headers: plain W3C names, read by any OTel-instrumented consumer."""
    return [(name, value.encode()) for name, value in inject(context).items()]


def kafka_carrier(headers: KafkaHeaders) -> dict[str, str]:
    """The W3C fields of Kafka record headers: plain `traceparent`, else the CloudEvents `ce_traceparent`."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or ())
    plain: dict[str, str] = {}
    cloudevents: dict[str, str] = {}
    for name, raw in pairs:
        value = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        if name in FIELDS:
            plain[name] = value
        elif name.startswith(CLOUDEVENTS_PREFIX) and name[len(CLOUDEVENTS_PREFIX) :] in FIELDS:
            cloudevents[name[len(CLOUDEVENTS_PREFIX) :]] = value
    return plain if TRACEPARENT in plain else cloudevents


def from_kafka_headers(headers: KafkaHeaders) -> Context:
    """The context Kafka record headers carry (an empty context, i.e. a new root, when none)."""
    return extract(kafka_carrier(headers))


def current_ids() -> tuple[str, str] | None:
    """`(trace_id, span_id)` of the current span in W3C hex, for log lines; None outside any span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return trace.format_trace_id(context.trace_id), trace.format_span_id(context.span_id)


@contextmanager
def consume_span(headers: KafkaHeaders, name: str, attributes: Attributes | None = None) -> Iterator[Span]:
    """A current CONSUMER span, child of the context in `headers` (aiokafka's `record.headers`), else a root.

    Name it `process <topic>` (OTel messaging conventions); `record_attributes` gives the
    usual attributes. An exception leaving the block is recorded and marks the span failed.
    """
    with tracer().start_as_current_span(
        name, context=from_kafka_headers(headers), kind=SpanKind.CONSUMER, attributes=attributes
    ) as span:
        yield span


def record_attributes(record: Any, group: str) -> dict[str, AttributeValue]:
    """OTel messaging attributes of an aiokafka `ConsumerRecord` processed by consumer group `group`."""
    return {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": str(record.topic),
        "messaging.destination.partition.id": str(record.partition),
        "messaging.kafka.offset": int(record.offset),
        "messaging.consumer.group.name": group,
    }


def produced_context(parent: Mapping[str, str], name: str, attributes: Attributes | None = None) -> dict[str, str]:
    """Record a PRODUCER span, child of the stored context `parent`, and return its W3C fields.

    The relay calls it as it builds a message, long after (and in another process than)
    the request that stored the event: the message then carries the producer span's
    context, so the consumer's span joins the same trace as a child of the producer.
    Without a stored context there is no trace to continue and nothing is returned.
    """
    context = extract(parent)
    if not trace.get_current_span(context).get_span_context().is_valid:
        return {}  # no stored context (or a malformed one): no trace to continue
    span = tracer().start_span(name, context=context, kind=SpanKind.PRODUCER, attributes=attributes)
    try:
        return inject(trace.set_span_in_context(span))  # never made current: nothing runs inside it
    finally:
        span.end()


def fail(span: Span, error: BaseException) -> None:
    """Mark `span` failed by `error` when the error is handled (dead-lettered) rather than raised."""
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:500]))
