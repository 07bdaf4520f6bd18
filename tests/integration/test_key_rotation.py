"""A master-key rotation on the real PostgreSQL key store: keys read while rotating, swept by pages, old key gone."""

from __future__ import annotations

import os
from uuid import uuid4

import pytest

from shared.platform.keystore import PostgresKeyStore, key_states, keystore_for, reseal_all
from shared.platform.keywrap import KeyWrap, KeyWrapError
from tests.integration.platform import Platform

OLD, NEW = os.urandom(32), os.urandom(32)


@pytest.mark.parametrize("store_backend", ["postgres"])
def test_keys_sealed_under_the_old_master_key_are_resealed_under_the_new_one(platform: Platform) -> None:
    env = platform.store_env("customer")
    before = keystore_for(env.get, KeyWrap(OLD))
    assert isinstance(before, PostgresKeyStore)
    keys = {subject: before.key_for(subject) for subject in (uuid4() for _ in range(1_203))}  # more than a page
    rotated = keystore_for(env.get, KeyWrap(NEW, [OLD]))
    assert isinstance(rotated, PostgresKeyStore)
    first = next(iter(keys))
    assert rotated.existing_key(first) == keys[first]  # read while serving: sealed again as it is read
    assert key_states(rotated) == {"previous": 1_202, "current": 1}
    assert reseal_all(rotated) == {"resealed": 1_202, "current": 1}
    after = keystore_for(env.get, KeyWrap(NEW))  # the old master key is gone
    assert isinstance(after, PostgresKeyStore)
    assert all(after.existing_key(subject) == key for subject, key in keys.items())
    with pytest.raises(KeyWrapError):
        keystore_for(env.get, KeyWrap(OLD)).existing_key(first)
