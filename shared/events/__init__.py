"""The public event contract of the CRM platform.

Every event a service publishes to Kafka is one of the versioned pydantic models
here, wrapped in a CloudEvents 1.0 envelope. Subscribers depend on this package
(or on the JSON Schemas generated from it under `schemas/`), never on a service's
internal domain events, so a service can refactor freely without breaking them.
"""

from shared.events.base import PublicEvent
from shared.events.envelope import EventEnvelope
from shared.events.registry import REGISTRY, EventRegistry, UnknownEventType

__all__ = ["REGISTRY", "EventEnvelope", "EventRegistry", "PublicEvent", "UnknownEventType"]
