"""Data keys at rest are sealed under the master key: a copy of the store file alone opens nothing."""

from __future__ import annotations

import base64
import os
import sqlite3
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.platform.keystore import TABLE, SQLiteKeyStore, key_states, keystore_for, reseal_all
from shared.platform.keywrap import MASTER_KEY_ENV, PREFIX, PREVIOUS_ENV, KeyWrap, KeyWrapError

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


def test_a_rotated_master_key_opens_old_keys_which_are_sealed_again_under_the_new_one(tmp_path: Path) -> None:
    path, new = tmp_path / "keys.db", os.urandom(32)
    subjects = [uuid4() for _ in range(5)]
    keys = {s: SQLiteKeyStore(str(path), KeyWrap(MASTER)).key_for(s) for s in subjects}
    rotated = SQLiteKeyStore(str(path), KeyWrap(new, [MASTER]))
    assert key_states(rotated) == {"previous": 5}
    assert rotated.existing_key(subjects[0]) == keys[subjects[0]]  # read: sealed again as it is
    assert key_states(rotated) == {"current": 1, "previous": 4}
    assert reseal_all(rotated) == {"resealed": 4, "current": 1}
    assert key_states(rotated) == {"current": 5}
    only_new = SQLiteKeyStore(str(path), KeyWrap(new))  # the previous key can now go
    assert {s: only_new.existing_key(s) for s in subjects} == keys
    with pytest.raises(KeyWrapError, match="not the master key"):
        SQLiteKeyStore(str(path), KeyWrap(MASTER)).existing_key(subjects[0])  # the old key alone opens nothing now
    with pytest.raises(KeyWrapError, match="neither CRM_KEYS_MASTER_KEY nor any of CRM_KEYS_PREVIOUS_MASTER_KEYS"):
        SQLiteKeyStore(str(path), KeyWrap(os.urandom(32), [MASTER])).existing_key(subjects[0])


def test_keys_of_the_first_release_and_unsealed_ones_are_sealed_by_a_sweep(tmp_path: Path) -> None:
    """The stored format did not change: what the first release sealed opens, and what this one seals, it opens."""
    path = tmp_path / "keys.db"
    old_style, plain = uuid4(), uuid4()
    data, nonce = os.urandom(32), os.urandom(12)
    sealed_v1 = PREFIX + nonce + AESGCM(MASTER).encrypt(nonce, data, old_style.bytes)  # as the first release stored it
    plain_key = SQLiteKeyStore(str(path)).key_for(plain)
    with sqlite3.connect(path) as db:
        db.execute(f"INSERT INTO {TABLE} VALUES (?, ?)", (str(old_style), sealed_v1))  # noqa: S608
    keys = SQLiteKeyStore(str(path), KeyWrap(os.urandom(32), [MASTER]))
    assert key_states(keys) == {"previous": 1, "unsealed": 1}
    assert reseal_all(keys) == {"resealed": 2}
    assert (keys.existing_key(old_style), keys.existing_key(plain)) == (data, plain_key)
    assert key_states(keys) == {"current": 2}
    assert all(value.startswith(PREFIX) for value in stored(path).values())


def test_previous_master_keys_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "keys.db")}
    subject = uuid4()
    key = SQLiteKeyStore(str(tmp_path / "keys.db"), KeyWrap(MASTER)).key_for(subject)
    b64 = base64.b64encode
    monkeypatch.setenv(MASTER_KEY_ENV, b64(os.urandom(32)).decode())
    monkeypatch.setenv(PREVIOUS_ENV, f"{b64(os.urandom(32)).decode()}, {b64(MASTER).decode()}")
    assert keystore_for(env.get).existing_key(subject) == key
    monkeypatch.setenv(PREVIOUS_ENV, "nope")
    with pytest.raises(ValueError, match=PREVIOUS_ENV):
        keystore_for(env.get)
    monkeypatch.delenv(MASTER_KEY_ENV)
    monkeypatch.setenv(PREVIOUS_ENV, b64(MASTER).decode())
    with pytest.raises(ValueError, match="is set but CRM_KEYS_MASTER_KEY is not"):
        keystore_for(env.get)
