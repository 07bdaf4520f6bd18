"""A lost race is one stale-version error naming the version decided on and the version stored."""

from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from shared.platform.concurrency import save_or_stale, stored_version


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
