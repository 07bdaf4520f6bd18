"""Data keys at rest are sealed under the master key: a copy of the store file alone opens nothing."""

from __future__ import annotations

import base64
import os
import sqlite3
from pathlib import Path
from uuid import uuid4

import pytest

from shared.platform.keystore import TABLE, SQLiteKeyStore, keystore_for
from shared.platform.keywrap import MASTER_KEY_ENV, PREFIX, KeyWrap, KeyWrapError

MASTER = os.urandom(32)


def stored(path: Path) -> dict[str, bytes]:
    with sqlite3.connect(path) as db:
        return {subject: bytes(key) for subject, key in db.execute(f"SELECT subject, key FROM {TABLE}")}  # noqa: S608


def file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_a_sealed_key_never_lies_in_the_file_and_opens_only_with_its_master_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    keys = SQLiteKeyStore(str(path), KeyWrap(MASTER))
    subject = uuid4()
    key = keys.key_for(subject)
    assert keys.key_for(subject) == key  # created once
    assert len(key) == 32
    assert key not in file_bytes(path)
    assert stored(path)[str(subject)].startswith(PREFIX)
    assert SQLiteKeyStore(str(path), KeyWrap(MASTER)).existing_key(subject) == key  # another process
    with pytest.raises(KeyWrapError, match="not the master key"):
        SQLiteKeyStore(str(path), KeyWrap(os.urandom(32))).existing_key(subject)
    with pytest.raises(KeyWrapError, match=MASTER_KEY_ENV):
        SQLiteKeyStore(str(path)).existing_key(subject)


def test_a_sealed_key_moved_to_another_subject_does_not_open(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    keys = SQLiteKeyStore(str(path), KeyWrap(MASTER))
    victim, attacker = uuid4(), uuid4()
    keys.key_for(victim)
    keys.key_for(attacker)
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE {TABLE} SET key = ? WHERE subject = ?", (stored(path)[str(victim)], str(attacker)))  # noqa: S608
    with pytest.raises(KeyWrapError):
        keys.existing_key(attacker)


def test_keys_stored_before_a_master_key_are_read_and_sealed_in_place(tmp_path: Path) -> None:
    path = tmp_path / "keys.db"
    subject = uuid4()
    key = SQLiteKeyStore(str(path)).key_for(subject)  # a development store, unsealed
    assert stored(path)[str(subject)] == key
    assert SQLiteKeyStore(str(path), KeyWrap(MASTER)).existing_key(subject) == key
    assert stored(path)[str(subject)].startswith(PREFIX)


def test_the_master_key_comes_from_the_environment_and_a_bad_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "keys.db")}
    monkeypatch.setenv(MASTER_KEY_ENV, base64.b64encode(MASTER).decode())
    keys = keystore_for(env.get)
    assert isinstance(keys, SQLiteKeyStore)
    subject = uuid4()
    assert SQLiteKeyStore(str(tmp_path / "keys.db"), KeyWrap(MASTER)).existing_key(subject) is None
    key = keys.key_for(subject)
    assert key not in file_bytes(tmp_path / "keys.db")
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        monkeypatch.setenv(MASTER_KEY_ENV, bad)
        with pytest.raises(ValueError, match=MASTER_KEY_ENV):
            keystore_for(env.get)
