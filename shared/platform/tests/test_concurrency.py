"""A lost race is one stale-version error naming the version decided on and the version stored."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from shared.platform.concurrency import retries_race, save_or_stale, stored_version


class Stale(Exception):
    def __init__(self, expected: int, actual: int, ident: UUID) -> None:
        super().__init__(f"{ident} is at version {actual}, not {expected}")
        self.expected, self.actual, self.ident = expected, actual, ident


class Note(Aggregate):
    @event("Created")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Edited")
    def edit(self, text: str) -> None:
        self.text = text


def test_the_loser_of_a_race_is_told_the_version_it_decided_on_and_the_stored_one() -> None:
    """Support and marketing said "is at version 3, not 3": they read the version after save() had cleared it."""
    app: Application[UUID] = Application()
    note = Note("a")
    app.save(note)
    mine: Note = app.repository.get(note.id)
    theirs: Note = app.repository.get(note.id)
    theirs.edit("b")
    theirs.edit("c")
    save_or_stale(app, (theirs,), Stale)
    mine.edit("d")
    with pytest.raises(Stale) as lost:
        save_or_stale(app, (mine,), Stale)
    assert (lost.value.expected, lost.value.actual, lost.value.ident) == (1, 3, note.id)
    assert stored_version(app, note.id) == 3
    assert app.repository.get(note.id).text == "c"


def test_of_several_aggregates_the_one_that_moved_is_named() -> None:
    app: Application[UUID] = Application()
    first, second = Note("a"), Note("b")
    app.save(first, second)
    mine: tuple[Note, Note] = (app.repository.get(first.id), app.repository.get(second.id))
    moved: Note = app.repository.get(second.id)
    moved.edit("x")
    app.save(moved)
    for note in mine:
        note.edit("y")
    with pytest.raises(Stale) as lost:
        save_or_stale(app, mine, Stale)
    assert (lost.value.expected, lost.value.actual, lost.value.ident) == (1, 2, second.id)
    assert stored_version(app, first.id) == 1  # nothing of the lost decision was stored


def test_retries_race_decides_again_only_for_a_caller_without_expected_version() -> None:
    calls: list[int | None] = []

    @retries_race(Stale, attempts=3)
    def command(ident: UUID, *, expected_version: int | None, fail: int) -> int:
        calls.append(expected_version)
        if len(calls) <= fail:
            raise Stale(1, 2, ident)
        return len(calls)

    ident = uuid4()
    assert command(ident, expected_version=None, fail=2) == 3  # two lost races, then written
    calls.clear()
    with pytest.raises(Stale):
        command(ident, expected_version=1, fail=1)  # the caller asked for the check: theirs to see
    assert calls == [1]
    calls.clear()
    with pytest.raises(Stale):
        command(ident, expected_version=None, fail=5)  # a race lost every time is reported after all
    assert len(calls) == 3
