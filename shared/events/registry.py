"""Event type → model and topic: how a subscriber turns an envelope back into a model."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shared.events import customer, marketing, sales, social, support
from shared.events.base import PublicEvent
from shared.events.envelope import EventEnvelope


class UnknownEventType(LookupError):
    """An envelope whose `type` no model in the registry declares."""


class EventRegistry:
    """An index of public event models by CloudEvents type."""

    def __init__(self, models: Iterable[type[PublicEvent]]) -> None:
        self._models: dict[str, type[PublicEvent]] = {}
        for model in models:
            if model.event_type in self._models:
                raise ValueError(f"event type {model.event_type} declared twice")
            self._models[model.event_type] = model

    def __iter__(self) -> Iterator[type[PublicEvent]]:
        return iter(sorted(self._models.values(), key=lambda m: m.event_type))

    def __len__(self) -> int:
        return len(self._models)

    def model(self, event_type: str) -> type[PublicEvent]:
        """The model of `event_type`; `UnknownEventType` if there is none."""
        try:
            return self._models[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def topic(self, event_type: str) -> str:
        """The topic `event_type` is published to."""
        return self.model(event_type).topic

    def on_topic(self, topic: str) -> list[type[PublicEvent]]:
        """The models published to `topic`, by type."""
        return [m for m in self if m.topic == topic]

    def parse(self, envelope: EventEnvelope) -> PublicEvent:
        """The typed event inside `envelope` (pydantic `ValidationError` if the data is invalid)."""
        return self.model(envelope.type).model_validate(envelope.data)


REGISTRY = EventRegistry(customer.EVENTS + sales.EVENTS + marketing.EVENTS + support.EVENTS + social.EVENTS)
"""Every public event of the platform."""
