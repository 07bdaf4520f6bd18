"""Prometheus metrics of the platform, served at `/metrics` by every process."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("crm_http_requests_total", "HTTP requests handled.", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("crm_http_request_duration_seconds", "HTTP request latency.", ["service", "method", "route"])
RELAY_PUBLISHED = Counter("crm_relay_published_total", "Events the relay published to Kafka.", ["service"])
RELAY_POSITION = Gauge("crm_relay_position", "Last notification id acknowledged by Kafka.", ["service"])
RELAY_HEAD = Gauge("crm_relay_store_head", "Last notification id in the event store.", ["service"])
RELAY_FAILURES = Counter("crm_relay_failures_total", "Publish attempts that failed and will be retried.", ["service"])
CONSUMED = Counter("crm_consumer_applied_total", "Events applied to projections.", ["group", "type"])
DEAD_LETTERED = Counter("crm_consumer_dead_lettered_total", "Messages sent to the dead-letter topic.", ["group"])
