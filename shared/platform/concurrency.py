"""Optimistic concurrency, one way in every service: a lost race is one stale-version error with the right numbers.

`Application.save` collects, and so clears, an aggregate's pending events before it
records them. A helper that worked out "the version this decision was taken on" after a
failed save got the new version back, so support's and marketing's 409 read "is at
version 3, not 3". Here the versions are taken before saving, and the stored version is
read from the recorder once the race is lost; each service passes its own error class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

Stale = Callable[[int, int, UUID], Exception]
"""The service's error for "decided on version `expected`, but `actual` is stored" for one aggregate id."""


def save_or_stale(app: Application[UUID], aggregates: tuple[Aggregate, ...], stale: Stale) -> None:
    """Save `aggregates` atomically; if another writer got there first, raise `stale` for the one that moved."""
    base = {a.id: a.version - len(a.pending_events) for a in aggregates}
    try:
        app.save(*aggregates)
    except IntegrityError:
        raise lost_race(app, base, stale) from None


def stored_version(app: Application[UUID], ident: UUID) -> int:
    """The version of the last stored event of `ident` (0 when none is)."""
    latest = app.recorder.select_events(ident, desc=True, limit=1)
    return int(latest[0].originator_version) if latest else 0


def lost_race(app: Application[UUID], base: Mapping[UUID, int], stale: Stale) -> Exception:
    """The error for the first aggregate whose stored version moved past the one the decision was taken on."""
    for ident, version in base.items():
        actual = stored_version(app, ident)
        if actual != version:
            return stale(version, actual, ident)
    ident, version = next(iter(base.items()))
    return stale(version, version, ident)
