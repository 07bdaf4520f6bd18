"""Upcasters: how an older version of a public event becomes the newest one.

A new event version never replaces the old one on the wire: messages already in Kafka
stay v1 forever, and a producer not yet upgraded keeps sending v1. An upcaster turns a
validated v1 event into v2 (and a v2 into v3, and so on), so a subscriber written
against the contract package handles only the newest version of each event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from shared.events.base import PublicEvent


class UpcasterConflict(ValueError):
    """Upcasters that cannot all hold: two for one version, a loop, or a jump to another topic."""


@dataclass(frozen=True)
class Upcast:
    """One step: an event of `source` becomes an event of `target` through `function`."""

    source: type[PublicEvent]
    target: type[PublicEvent]
    function: Callable[[Any], PublicEvent]


class Upcasters:
    """The upcast steps of the platform, followed in a chain up to the newest version."""

    def __init__(self, steps: Iterable[Upcast] = ()) -> None:
        self._steps: dict[type[PublicEvent], Upcast] = {}
        for step in steps:
            self.register(step)

    def register(self, step: Upcast) -> None:
        """Add one step; refuses a second step from one version, a loop, or a change of topic."""
        if step.source in self._steps:
            raise UpcasterConflict(f"{step.source.event_type} already upcasts to {self._steps[step.source].target}")
        if step.source.topic != step.target.topic:
            raise UpcasterConflict(f"{step.source.event_type} and {step.target.event_type} are on different topics")
        self._steps[step.source] = step
        try:
            self.latest(step.source)
        except UpcasterConflict:
            del self._steps[step.source]
            raise

    def latest(self, model: type[PublicEvent]) -> type[PublicEvent]:
        """The newest version `model` upcasts to (itself if it is the newest)."""
        seen = {model}
        while model in self._steps:
            model = self._steps[model].target
            if model in seen:
                raise UpcasterConflict(f"upcasters loop through {model.event_type}")
            seen.add(model)
        return model

    def next_version(self, model: type[PublicEvent]) -> type[PublicEvent] | None:
        """The version that directly supersedes `model`, if any."""
        step = self._steps.get(model)
        return step.target if step else None

    def upcast(self, event: PublicEvent) -> PublicEvent:
        """`event` as the newest version of its event, one step at a time."""
        while (step := self._steps.get(type(event))) is not None:
            event = step.function(event)
            if type(event) is not step.target:
                raise TypeError(f"upcaster of {step.source.event_type} returned {type(event).__name__}")
        return event
