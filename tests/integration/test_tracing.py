"""One trace across real processes: customer API → store → relay → Kafka headers → the sales consumers.

The processes export spans with `OTEL_TRACES_EXPORTER=console` (one JSON object a line on
stderr, which the stack writes to each process's log), so the test reads the spans the
customer API, the relay and the consumer made, and the trace headers on the real topic.
Runs on both event stores: the trace context is stored with the event and read back by the relay.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from services.sales.application import SalesApplication
from services.sales.settings import SalesSettings
from shared.events.topics import CUSTOMER
from tests.integration.platform import Platform, eventually

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
LI_NA = {"name": "李娜", "emails": ["li.na@example.cn"], "consent": {"email": True}}


def spans(log: Path) -> list[dict[str, Any]]:
    """The spans a process exported to its log (console exporter lines), in order."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"kind": "SpanKind.' in line:
            found.append(json.loads(line))
    return found


def span_of(log: Path, kind: str) -> dict[str, Any] | None:
    """The first exported span of `kind` in our trace, if it is there yet."""
    mine = [s for s in spans(log) if s["kind"] == f"SpanKind.{kind}" and s["context"]["trace_id"] == f"0x{TRACE_ID}"]
    return mine[0] if mine else None


def test_a_callers_trace_reaches_the_kafka_headers_and_another_services_consumer(platform: Platform) -> None:
    customer = platform.start("customer", OTEL_TRACES_EXPORTER="console")
    relay = platform.start("customer-relay")
    consumers = platform.start("sales-consumers")

    headers = platform.headers("sales_rep") | {"traceparent": TRACEPARENT, "tracestate": "crm=it"}
    response = httpx.post(f"{platform.url('customer')}/customers", json=LI_NA, headers=headers)
    assert response.status_code == 201, response.text
    customer_id = response.json()["id"]

    # The API continued the caller's trace with a SERVER span, and its log lines carry the trace id.
    server = eventually(lambda: span_of(customer.log, "SERVER"), what="the API's server span")
    assert server["name"] == "POST /customers"
    assert server["parent_id"] == f"0x{CALLER_SPAN}"
    access = [json.loads(line) for line in customer.log.read_text().splitlines() if '"logger": "crm.http"' in line]
    assert any(line.get("trace_id") == TRACE_ID and "POST /customers" in line["message"] for line in access)

    # The record on the real topic carries the trace as CloudEvents and plain W3C headers.
    def registered() -> dict[str, str] | None:
        for record in platform.records(CUSTOMER):
            if record.key == customer_id.encode():
                return {name: value.decode() for name, value in record.headers}
        return None

    record_headers = eventually(registered, timeout=90, what=f"the registration on {CUSTOMER}")
    assert record_headers["traceparent"] == record_headers["ce_traceparent"]
    assert record_headers["tracestate"] == record_headers["ce_tracestate"] == "crm=it"
    version, trace_id, producer_span_id, _flags = record_headers["traceparent"].split("-")
    assert (version, trace_id) == ("00", TRACE_ID)

    # The relay's PRODUCER span is a child of the API's span; the header names that producer span.
    producer = eventually(lambda: span_of(relay.log, "PRODUCER"), timeout=30, what="the relay's span")
    assert producer["context"]["span_id"] == f"0x{producer_span_id}"
    assert producer["parent_id"] == server["context"]["span_id"]

    # The sales consumer's span joins the trace under the producer span.
    consumer = eventually(lambda: span_of(consumers.log, "CONSUMER"), timeout=90, what="the consumer's span")
    assert consumer["name"] == f"process {platform.kafka.topic(CUSTOMER)}"
    assert consumer["parent_id"] == f"0x{producer_span_id}"
    assert consumer["attributes"]["crm.consumer.outcome"] == "handled"

    # What the consumer stored in the sales store carries the trace on (raw state: no keys needed).
    sales = SalesApplication(env=platform.store_env("sales"), settings=SalesSettings())
    try:
        states = b"".join(n.state for n in sales.recorder.select_notifications(start=1, limit=100))
        assert TRACE_ID.encode() in states
        assert consumer["context"]["span_id"][2:].encode() in states
    finally:
        sales.close()
