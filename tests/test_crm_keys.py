"""`crm keys`: after a master-key rotation, see which keys still need the old key, and seal them anew."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from crm.keys import app
from shared.platform.keystore import SQLiteKeyStore
from shared.platform.keywrap import KeyWrap

OLD, NEW = os.urandom(32), os.urandom(32)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "customer.sqlite"
    keys = SQLiteKeyStore(str(path), KeyWrap(OLD))
    for _ in range(3):
        keys.key_for(uuid4())
    for inherited in ("CRM_KEYS_MASTER_KEY", "CRM_KEYS_PREVIOUS_MASTER_KEYS"):  # `make test` sets a master key
        monkeypatch.delenv(inherited, raising=False)
    monkeypatch.setenv("CRM_CUSTOMER_STORE__SQLITE_PATH", str(path))
    monkeypatch.setenv("CRM_JWT_SECRET", "k" * 40)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output if result.exit_code == 0 else result.output + result.stderr


def test_status_then_reseal_then_status(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KEYS_MASTER_KEY", b64(NEW))
    monkeypatch.setenv("CRM_KEYS_PREVIOUS_MASTER_KEYS", b64(OLD))
    code, out = run("status", "customer", "--json")
    assert (code, json.loads(out)) == (0, {"customer": {"current": 0, "previous": 3, "unsealed": 0}})
    code, out = run("reseal", "customer", "--json")
    assert (code, json.loads(out)) == (0, {"customer": {"resealed": 3, "current": 0, "changed": 0}})
    code, out = run("status", "customer")
    assert code == 0
    assert "customer" in out
    monkeypatch.delenv("CRM_KEYS_PREVIOUS_MASTER_KEYS")  # no longer needed: every key is under the new one
    code, out = run("reseal", "customer", "--json")
    assert (code, json.loads(out)) == (0, {"customer": {"resealed": 0, "current": 3, "changed": 0}})


def test_a_key_no_configured_master_key_opens_stops_the_sweep(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_KEYS_MASTER_KEY", b64(NEW))  # the old key was dropped too soon
    code, out = run("reseal", "customer", "--json")
    assert code == 1
    assert "CRM_KEYS_MASTER_KEY is not the master key" in out
    code, out = run("status", "customer")
    assert code == 1
    assert "CRM_KEYS_MASTER_KEY is not the master key" in out


def test_bad_arguments_are_refused(store: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert run("reseal", "customer")[0] == 2  # no master key to seal under
    monkeypatch.setenv("CRM_KEYS_MASTER_KEY", b64(NEW))
    assert run("status", "billing")[0] == 2
    monkeypatch.setenv("CRM_CUSTOMER_STORE__SQLITE_PATH", str(tmp_path / "missing.sqlite"))
    for command in ("status", "reseal"):
        code, out = run(command, "customer")
        assert code == 1
        assert "no customer event store" in out
