"""Event type → model and topic: how a subscriber turns an envelope back into a model.

`parse` validates the data against the model of the envelope's own type (a v1 message
must be valid v1), then upcasts it to the newest version of that event, so subscribers
only ever handle the latest version. `model` still answers the exact version, which
the schemas, the AsyncAPI document and the contract tests need.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shared.events import customer, marketing, sales, social, support
from shared.events.base import PublicEvent
from shared.events.envelope import EventEnvelope
from shared.events.upcasting import Upcast, Upcasters


class UnknownEventType(LookupError):
    """An envelope whose `type` no model in the registry declares."""


class EventRegistry:
    """An index of public event models by CloudEvents type, with the upcasters between versions."""

    def __init__(self, models: Iterable[type[PublicEvent]], upcasts: Iterable[Upcast] = ()) -> None:
        self._models: dict[str, type[PublicEvent]] = {}
        for model in models:
            if model.event_type in self._models:
                raise ValueError(f"event type {model.event_type} declared twice")
            self._models[model.event_type] = model
        self.upcasters = Upcasters()
        for step in upcasts:
            for end in (step.source, step.target):
                if self._models.get(end.event_type) is not end:
                    raise ValueError(f"upcaster names {end.event_type}, which is not in the registry")
            self.upcasters.register(step)

    def __iter__(self) -> Iterator[type[PublicEvent]]:
        return iter(sorted(self._models.values(), key=lambda m: m.event_type))

    def __len__(self) -> int:
        return len(self._models)

    def model(self, event_type: str) -> type[PublicEvent]:
        """The model of exactly `event_type`; `UnknownEventType` if there is none."""
        try:
            return self._models[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def latest(self, event_type: str) -> type[PublicEvent]:
        """The model of the newest version of `event_type` (what `parse` returns for it)."""
        return self.upcasters.latest(self.model(event_type))

    def superseded_by(self, model: type[PublicEvent]) -> type[PublicEvent] | None:
        """The next version of `model`, if a newer one replaced it."""
        return self.upcasters.next_version(model)

    def topic(self, event_type: str) -> str:
        """The topic `event_type` is published to."""
        return self.model(event_type).topic

    def on_topic(self, topic: str) -> list[type[PublicEvent]]:
        """The models published to `topic`, by type."""
        return [m for m in self if m.topic == topic]

    def parse(self, envelope: EventEnvelope) -> PublicEvent:
        """The typed event inside `envelope`, upcast to its newest version.

        The data must be valid for the envelope's own version (pydantic `ValidationError`
        if not): an invalid v1 message is refused, never repaired by the upcaster.
        """
        return self.upcast(self.model(envelope.type).model_validate(envelope.data))

    def upcast(self, event: PublicEvent) -> PublicEvent:
        """`event` as the newest version of its event (unchanged if it is the newest)."""
        return self.upcasters.upcast(event)


REGISTRY = EventRegistry(
    customer.EVENTS + sales.EVENTS + marketing.EVENTS + support.EVENTS + social.EVENTS,
    upcasts=customer.UPCASTS,
)
"""Every public event of the platform."""
