"""The AsyncAPI 3.0 document of the public streams, generated from the registry.

Integrators read it (docs/asyncapi.json) to subscribe without reading our code: one
channel per topic, one message per event type with its payload schema, CloudEvents
headers and the Kafka key.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.events import topics
from shared.events.registry import REGISTRY, EventRegistry
from shared.events.schemas import schema_of

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"

_HEADERS = {
    "type": "object",
    "description": (
        "CloudEvents 1.0 attributes in binary mode, the aggregate's id and version, and the W3C trace context."
    ),
    "required": ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_aggregateid"],
    "properties": {
        "ce_id": {"type": "string", "description": "Event id; the same event republished keeps it."},
        "ce_source": {"type": "string", "description": "Publishing service, e.g. /crm/customer."},
        "ce_type": {"type": "string", "description": "Event type, e.g. crm.customer.registered.v1."},
        "ce_specversion": {"const": "1.0"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {
            "type": "string",
            "format": "uuid",
            "description": "Customer id, on events about a customer (then also the key).",
        },
        "ce_dataschema": {"type": "string", "description": "URN of the payload's JSON Schema."},
        "ce_aggregateid": {"type": "string", "format": "uuid"},
        "ce_aggregateversion": {"type": "string", "description": "Version of the aggregate after the event."},
        "ce_correlationid": {"type": "string", "description": "Id of the request that caused the event."},
        "ce_sequence": {"type": "string", "description": "Position in the publishing service's log."},
        "ce_traceparent": {
            "type": "string",
            "description": "W3C traceparent of the publishing span (CloudEvents distributed-tracing extension).",
        },
        "ce_tracestate": {"type": "string", "description": "W3C tracestate travelling with ce_traceparent."},
        "traceparent": {
            "type": "string",
            "description": "Same as ce_traceparent, under the W3C name OpenTelemetry Kafka instrumentations read.",
        },
        "tracestate": {"type": "string", "description": "Same as ce_tracestate, under its W3C name."},
        "content-type": {"const": "application/json"},
    },
}

_KEY = "key = the customer id (else the aggregate id), so one customer's events arrive in order."


def _message(model: Any, registry: EventRegistry) -> dict[str, Any]:
    message = {
        "name": model.event_type,
        "title": model.__name__,
        "summary": (model.__doc__ or "").strip().splitlines()[0],
        "contentType": "application/json",
        "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
        "payload": schema_of(model),
        "bindings": {"kafka": {"key": {"type": "string", "format": "uuid", "description": _KEY}}},
    }
    newer = registry.superseded_by(model)
    return message if newer is None else _superseded(message, newer.event_type)


def _superseded(message: dict[str, Any], newer: str) -> dict[str, Any]:
    """Mark a message a newer version replaced: still documented, since old records keep it on the topic."""
    return {
        **message,
        "description": (
            f"Superseded by `{newer}`. Producers no longer send this version, but records already on the "
            f"topic keep it; the contract package upcasts them to `{newer}`."
        ),
        "payload": {**message["payload"], "deprecated": True},
        "x-superseded-by": newer,
    }


def _channel(topic: str, registry: EventRegistry) -> dict[str, Any]:
    refs = {m.event_type: {"$ref": f"#/components/messages/{m.event_type}"} for m in registry.on_topic(topic)}
    return {
        "address": topic,
        "messages": refs,
        "bindings": {"kafka": {"partitions": topics.PARTITIONS, "topicConfiguration": {"retention.ms": -1}}},
    }


def document(registry: EventRegistry = REGISTRY) -> dict[str, Any]:
    """The whole AsyncAPI document for the topics that have events."""
    streams = sorted({m.topic for m in registry})
    channels = {t: _channel(t, registry) for t in streams}
    operations = {
        f"receive:{t}": {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{t}"},
            "summary": f"Subscribe to {t}; {_KEY}",
        }
        for t in streams
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "CRM platform public events",
            "version": "1.0.0",
            "description": "Versioned domain events of the CRM services; replay any stream from offset 0.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {m.event_type: _message(m, registry) for m in registry},
            "schemas": {"CloudEventHeaders": _HEADERS},
        },
    }


def render(doc: dict[str, Any]) -> str:
    """Canonical text of the document."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["write"]:
        DOCUMENT.parent.mkdir(exist_ok=True)
        DOCUMENT.write_text(render(document()), "utf-8")
    else:
        sys.exit(0 if DOCUMENT.exists() and DOCUMENT.read_text("utf-8") == render(document()) else 1)
