"""GDPR erasure: crypto-shredding leaves no readable personal data in the event store."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from services.customer.application import CustomerApplication
from services.customer.relay import to_public
from shared.platform.eventstore import EventStoreSettings, persistence_env
from shared.platform.keystore import TABLE

EMAIL = "shred.me@example.com"


def app_on(db: Path) -> CustomerApplication:
    return CustomerApplication(env=persistence_env(EventStoreSettings(sqlite_path=str(db))), default_region="GB")


def a_full_life(app: CustomerApplication) -> UUID:
    customer_id = app.register(name="Grace Hopper", emails=[EMAIL], phones=["07911 123456"], address="Arlington")
    app.add_contact_point(customer_id, expected_version=None, kind="email", value="grace@navy.example")
    app.record_interaction(
        customer_id,
        expected_version=None,
        kind="note",
        summary="COBOL questions",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        recorded_by="rep",
    )
    return customer_id


def store_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_personal_data_never_reaches_the_store_in_plain_text(tmp_path: Path) -> None:
    a_full_life(app_on(tmp_path / "c.db"))
    raw = store_bytes(tmp_path / "c.db")
    for secret in (EMAIL, "Grace Hopper", "+447911123456", "Arlington", "COBOL questions"):
        assert secret.encode() not in raw


def test_an_erased_customer_loads_without_personal_data_in_a_new_process(tmp_path: Path) -> None:
    app = app_on(tmp_path / "c.db")
    customer_id = a_full_life(app)
    app.erase(customer_id)
    fresh = app_on(tmp_path / "c.db")
    customer = fresh.get(customer_id)
    assert customer.erased
    assert (customer.name, customer.emails, customer.phones, customer.address) == ("", [], [], None)
    assert fresh.pii_keys.existing_key(customer_id) is None


def test_after_shredding_the_stored_events_read_as_empty_everywhere(tmp_path: Path) -> None:
    app = app_on(tmp_path / "c.db")
    customer_id = a_full_life(app)
    app.erase(customer_id)
    fresh = app_on(tmp_path / "c.db")
    events = [fresh.mapper.to_domain_event(n) for n in fresh.recorder.select_notifications(start=1, limit=50)]
    published = [to_public(e) for e in events]
    assert EMAIL not in repr(published)
    assert "Grace" not in repr(published)
    assert fresh.search(email=EMAIL) == []


def test_erasing_again_is_harmless(tmp_path: Path) -> None:
    app = app_on(tmp_path / "c.db")
    customer_id = a_full_life(app)
    app.erase(customer_id)
    version = app.get(customer_id).version
    app.erase(customer_id)
    assert app.get(customer_id).version == version


def test_no_byte_of_a_shredded_key_is_left_in_the_store_files(tmp_path: Path) -> None:
    """SQLite keeps old page versions in its write-ahead log: the shred checkpoints and truncates it."""
    app = app_on(tmp_path / "c.db")
    customer_id = a_full_life(app)
    kept = app.register(name="Ada Lovelace", emails=["ada@example.com"], phones=[], address=None)
    key = app.pii_keys.existing_key(customer_id)
    assert key is not None
    with sqlite3.connect(tmp_path / "c.db") as db:  # what lies in the file: the key, or it sealed (`keywrap.py`)
        [(stored,)] = db.execute(f"SELECT key FROM {TABLE} WHERE subject = ?", (str(customer_id),)).fetchall()  # noqa: S608
    assert bytes(stored) in store_bytes(tmp_path / "c.db")  # the test can see a key where it lies
    app.erase(customer_id)
    assert bytes(stored) not in store_bytes(tmp_path / "c.db")
    assert key not in store_bytes(tmp_path / "c.db")
    assert app_on(tmp_path / "c.db").get(kept).name == "Ada Lovelace"  # the other keys are all there
