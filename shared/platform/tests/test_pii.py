"""Personal fields are sealed per subject in the store and unreadable once the key is shredded."""

from __future__ import annotations

from uuid import UUID

import pytest
from cryptography.exceptions import InvalidTag
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Mapper, StoredEvent

from shared.platform.keystore import InMemoryKeyStore, SQLiteKeyStore
from shared.platform.pii import PiiMapper


class Person(Aggregate):
    """A stand-in aggregate with personal and non-personal fields."""

    @event("Joined")
    def __init__(self, name: str, emails: list[str], nickname: str | None, country: str) -> None:
        self.name, self.emails, self.nickname, self.country = name, emails, nickname, country


KEYS = InMemoryKeyStore()


class People(Application[UUID]):
    def construct_mapper(self) -> Mapper[UUID]:
        return PiiMapper(self.construct_transcoder(), KEYS, {"Person.Joined": ("name", "emails", "nickname")})


def joined() -> tuple[People, Person, StoredEvent]:
    app = People()
    person = Person("王芳", ["wang.fang@example.cn"], None, "CN")
    app.save(person)
    [stored] = app.recorder.select_events(person.id)
    return app, person, stored


def test_personal_fields_are_not_stored_in_plain_text() -> None:
    _, _, stored = joined()
    assert "王芳".encode() not in stored.state
    assert b"wang.fang@example.cn" not in stored.state
    assert b'"country":"CN"' in stored.state


def test_sealed_fields_open_with_the_key() -> None:
    app, person, _ = joined()
    loaded: Person = app.repository.get(person.id)
    assert (loaded.name, loaded.emails, loaded.nickname) == ("王芳", ["wang.fang@example.cn"], None)


def test_after_shredding_the_fields_read_as_empty_values_of_their_shape() -> None:
    app, person, stored = joined()
    KEYS.shred(person.id)
    restored = app.mapper.to_domain_event(stored)
    assert (restored.name, restored.emails, restored.nickname, restored.country) == ("", [], None, "CN")  # type: ignore[attr-defined]


def test_a_sealed_value_moved_into_another_event_does_not_open() -> None:
    app, _, stored = joined()
    moved = StoredEvent(stored.originator_id, stored.originator_version + 1, stored.topic, stored.state)
    with pytest.raises(InvalidTag):
        app.mapper.to_domain_event(moved)


def test_sqlite_keys_are_created_once_and_shredded_for_good(tmp_path: object) -> None:
    keys = SQLiteKeyStore(f"{tmp_path}/keys.db")
    subject = UUID("1f0e8d4c-3b2a-4c1d-9e8f-7a6b5c4d3e2f")
    first = keys.key_for(subject)
    assert keys.key_for(subject) == first
    keys.shred(subject)
    assert keys.existing_key(subject) is None
    assert keys.key_for(subject) != first
