"""Optimistic concurrency, one way in every service: a lost race is one stale-version error with the right numbers.

`Application.save` collects, and so clears, an aggregate's pending events before it
records them. A helper that worked out "the version this decision was taken on" after a
failed save got the new version back, so support's and marketing's 409 read "is at
version 3, not 3". Here the versions are taken before saving, and the stored version is
read from the recorder once the race is lost; each service passes its own error class.

A caller who sends `expected_version` asked for the check, and gets the 409. One who
does not asked for "apply this to whatever is current", so a lost race is theirs to
win: `retries_race` decides the command again on the new version (after a short random
pause, so that writers racing on one record spread out) and answers the version written.
Only for commands that do nothing but decide and save: one with an effect outside its
save (a reply sent to a platform) would have that effect twice.
"""

from __future__ import annotations

import functools
import inspect
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

Stale = Callable[[int, int, UUID], Exception]
"""The service's error for "decided on version `expected`, but `actual` is stored" for one aggregate id."""
F = TypeVar("F", bound=Callable[..., Any])
ATTEMPTS = 30
"""Decisions per unversioned command before the race is reported after all (20 writers on one record win)."""


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


def retries_race(stale: type[Exception], attempts: int = ATTEMPTS) -> Callable[[F], F]:
    """Decorate a command taking `expected_version`: called without one, a lost race is decided again."""

    def decorate(command: F) -> F:
        signature = inspect.signature(command)

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            versioned = signature.bind(*args, **kwargs).arguments.get("expected_version") is not None
            for attempt in range(1, attempts + 1):
                try:
                    return command(*args, **kwargs)
                except stale:
                    if versioned or attempt == attempts:
                        raise
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))  # noqa: S311 - jitter, not a secret
            raise AssertionError("unreachable")  # pragma: no cover

        return cast(F, run)

    return decorate
