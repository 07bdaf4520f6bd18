"""The application: load → decide → save, optimistic concurrency, atomic merge, storage."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.customer.application import CustomerApplication
from services.customer.domain import (
    CannotMergeIntoSelf,
    Customer,
    CustomerErased,
    CustomerMerged,
    CustomerNotFound,
    InvalidContactPoint,
    StaleVersion,
)
from shared.platform import correlation
from shared.platform.eventstore import EventStoreSettings, persistence_env


@pytest.fixture
def app() -> Iterator[CustomerApplication]:
    with CustomerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, default_region="CN") as application:
        yield application


def register(app: CustomerApplication, **overrides: Any) -> UUID:
    fields: dict[str, Any] = {"name": "Ada Lovelace", "emails": ["ada@example.com"], "phones": []}
    return app.register(**(fields | overrides))


def stored_events(app: CustomerApplication) -> int:
    return app.recorder.max_notification_id() or 0


def test_register_normalises_phone_with_the_default_region(app: CustomerApplication) -> None:
    customer_id = register(app, phones=["138 0013 8000"])
    assert app.get(customer_id).phones == ["+8613800138000"]


def test_chinese_name_round_trips(app: CustomerApplication) -> None:
    address = {"lines": ["建国路 88 号", "ＳＯＨＯ现代城"], "city": "北京市", "postal_code": "100022", "country": "cn"}
    customer_id = register(app, name="张伟", address=address, tags=["重要客户"])
    customer = app.get(customer_id)
    assert (customer.name, customer.tags) == ("张伟", ["重要客户"])
    assert customer.address == {
        "lines": ["建国路 88 号", "SOHO现代城"],  # NFKC: full-width Latin letters become ASCII
        "city": "北京市",
        "region": None,
        "postal_code": "100022",
        "country": "CN",
    }


def test_invalid_email_writes_no_event(app: CustomerApplication) -> None:
    customer_id = register(app)
    with pytest.raises(InvalidContactPoint):
        app.register(name="Bob", emails=["bob@"], phones=[])
    with pytest.raises(InvalidContactPoint):
        app.add_contact_point(customer_id, expected_version=1, kind="email", value="not an email")
    assert stored_events(app) == 1


def test_commands_return_the_new_version(app: CustomerApplication) -> None:
    customer_id = register(app)
    assert app.update_profile(customer_id, expected_version=1, name="Ada King") == 2
    assert app.add_contact_point(customer_id, expected_version=2, kind="phone", value="13800138000") == 3
    assert app.remove_contact_point(customer_id, expected_version=3, kind="email", value="ada@example.com") == 4
    assert app.change_consent(customer_id, expected_version=4, channel="sms", granted=True) == 5
    assert app.get(customer_id).version == 5


def test_record_interaction_returns_its_id(app: CustomerApplication) -> None:
    customer_id = register(app)
    occurred_at = datetime(2024, 5, 1, 9, tzinfo=UTC)
    interaction_id, version = app.record_interaction(
        customer_id,
        expected_version=None,
        kind="meeting",
        summary="Kick-off",
        occurred_at=occurred_at,
        recorded_by="rep-7",
    )
    assert version == app.get(customer_id).version == 2
    [interaction] = app.get(customer_id).interactions
    assert interaction == {
        "id": interaction_id,
        "kind": "meeting",
        "summary": "Kick-off",
        "occurred_at": occurred_at,
        "recorded_by": "rep-7",
    }


def test_stale_version_is_rejected(app: CustomerApplication) -> None:
    customer_id = register(app)
    app.change_consent(customer_id, expected_version=1, channel="email", granted=True)
    with pytest.raises(StaleVersion) as raised:
        app.update_profile(customer_id, expected_version=1, name="Ada King")
    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert stored_events(app) == 2


def test_concurrent_save_surfaces_as_stale_version(app: CustomerApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    customer_id = register(app)
    loaded_first = app.get(customer_id)
    app.add_contact_point(customer_id, expected_version=None, kind="phone", value="13800138000")
    monkeypatch.setattr(app, "get", lambda _: loaded_first)  # this writer loaded before the other saved
    with pytest.raises(StaleVersion) as raised:  # it said which version it decided on: the race is its 409
        app.change_consent(customer_id, expected_version=1, channel="email", granted=True)
    assert (raised.value.expected, raised.value.actual, raised.value.customer_id) == (1, 2, customer_id)


def test_register_with_existing_id_is_idempotent(app: CustomerApplication) -> None:
    customer_id = uuid4()
    assert register(app, customer_id=customer_id) == customer_id
    assert register(app, customer_id=customer_id, name="Someone Else") == customer_id
    assert app.get(customer_id).name == "Ada Lovelace"
    assert stored_events(app) == 1


def test_unknown_customer_is_not_found(app: CustomerApplication) -> None:
    with pytest.raises(CustomerNotFound):
        app.get(uuid4())
    with pytest.raises(CustomerNotFound):
        app.change_consent(uuid4(), expected_version=None, channel="email", granted=True)


def test_merge_saves_both_aggregates_atomically(app: CustomerApplication) -> None:
    survivor_id = register(app, tags=["vip"])
    merged_id = register(app, name="A. Lovelace", emails=["ada@work.example"], tags=["b2b"])
    app.merge(survivor_id=survivor_id, merged_id=merged_id, expected_versions={survivor_id: 1, merged_id: 1})
    survivor, merged = app.get(survivor_id), app.get(merged_id)
    assert survivor.emails == ["ada@example.com", "ada@work.example"]
    assert survivor.tags == ["b2b", "vip"]
    assert merged.merged_into == survivor_id
    last_two = app.recorder.select_notifications(start=3, limit=10)
    assert [n.originator_id for n in last_two] == [survivor_id, merged_id]


def test_failed_merge_writes_neither_aggregate(app: CustomerApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    survivor_id, merged_id = register(app), register(app, emails=["ada@work.example"])
    stale_survivor = app.get(survivor_id)
    app.change_consent(survivor_id, expected_version=None, channel="email", granted=True)
    loaded = {survivor_id: stale_survivor, merged_id: app.get(merged_id)}
    monkeypatch.setattr(app, "get", loaded.__getitem__)
    with pytest.raises(StaleVersion):
        app.merge(survivor_id=survivor_id, merged_id=merged_id)
    monkeypatch.undo()
    assert app.get(merged_id).merged_into is None
    assert stored_events(app) == 3


def test_merge_checks_expected_versions_and_self(app: CustomerApplication) -> None:
    survivor_id, merged_id = register(app), register(app)
    with pytest.raises(StaleVersion):
        app.merge(survivor_id=survivor_id, merged_id=merged_id, expected_versions={merged_id: 7})
    with pytest.raises(CannotMergeIntoSelf):
        app.merge(survivor_id=survivor_id, merged_id=survivor_id)


def test_commands_on_a_merged_customer_name_the_survivor(app: CustomerApplication) -> None:
    survivor_id, merged_id = register(app), register(app)
    app.merge(survivor_id=survivor_id, merged_id=merged_id)
    with pytest.raises(CustomerMerged) as raised:
        app.update_profile(merged_id, expected_version=None, name="Ada")
    assert raised.value.survivor_id == survivor_id


def test_erase_clears_pii_and_blocks_commands(app: CustomerApplication) -> None:
    customer_id = register(app, phones=["13800138000"], address="1 Main St")
    app.erase(customer_id)
    customer = app.get(customer_id)
    assert (customer.name, customer.emails, customer.phones, customer.address) == ("", [], [], None)
    with pytest.raises(CustomerErased):
        app.add_contact_point(customer_id, expected_version=None, kind="email", value="ada@example.com")


def test_replay_from_the_store_gives_the_same_state(tmp_path: Path) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "events.sqlite")))
    with CustomerApplication(env=env, default_region="GB") as writer:
        customer_id = register(writer, tags=["vip"], consent={"email": True})
        writer.update_profile(customer_id, expected_version=1, address="1 Main St", tags=["vip", "b2b"])
        writer.add_contact_point(customer_id, expected_version=2, kind="phone", value="020 7946 0958")
        occurred_at = datetime(2024, 5, 1, tzinfo=UTC)
        writer.record_interaction(
            customer_id, expected_version=3, kind="call", summary="Hi", occurred_at=occurred_at, recorded_by="rep"
        )
        before = writer.get(customer_id)
    with CustomerApplication(env=env) as reader:
        assert reader.get(customer_id) == before


def test_two_app_instances_on_one_sqlite_file_see_each_others_events(tmp_path: Path) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "events.sqlite")))
    with CustomerApplication(env=env) as first, CustomerApplication(env=env) as second:
        customer_id = register(first)
        second.change_consent(customer_id, expected_version=1, channel="email", granted=True)
        assert first.get(customer_id).consent["email"] is True
        assert [s.id for s in first.search(text="lovelace")] == [customer_id]
        with pytest.raises(StaleVersion):
            first.update_profile(customer_id, expected_version=1, name="Ada King")


def test_correlation_id_is_stored_with_events(app: CustomerApplication) -> None:
    token = correlation.bind("req-42")
    try:
        register(app)
    finally:
        correlation.reset(token)
    [notification] = app.recorder.select_notifications(start=1, limit=1)
    assert getattr(app.mapper.to_domain_event(notification), "correlation_id") == "req-42"  # noqa: B009


def test_every_event_survives_the_json_store(app: CustomerApplication) -> None:
    survivor_id = register(app, consent={"sms": True}, tags=["vip"])
    merged_id = register(app, emails=["other@example.com"], phones=["13800138000"])
    app.record_interaction(
        survivor_id, expected_version=None, kind="visit", summary="s", occurred_at=datetime.now(UTC), recorded_by="r"
    )
    app.merge(survivor_id=survivor_id, merged_id=merged_id)
    app.erase(merged_id)
    names = [type(app.mapper.to_domain_event(n)).__name__ for n in app.recorder.select_notifications(start=1, limit=99)]
    assert names == ["Registered", "Registered", "InteractionRecorded", "Absorbed", "MergedInto", "Erased"]
    assert isinstance(app.get(survivor_id), Customer)


def test_writers_racing_without_expected_version_all_land_each_with_its_own_version(tmp_path: Path) -> None:
    """Before, 39 of 60 such writes got 409 and two successes reported the same version."""
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "events.sqlite")))
    with CustomerApplication(env=env) as shared:
        customer_id = register(shared)
        occurred_at = datetime(2026, 12, 1, tzinfo=UTC)

        def write(n: int) -> int:
            return shared.record_interaction(
                customer_id, expected_version=None, kind="note", summary=f"第 {n} 条", occurred_at=occurred_at,
                recorded_by=f"rep-{n % 4}",
            ).version  # fmt: skip

        with ThreadPoolExecutor(max_workers=12) as pool:
            versions = list(pool.map(write, range(48)))
        assert sorted(versions) == list(range(2, 50))
        assert len(shared.get(customer_id).interactions) == 48
        with pytest.raises(StaleVersion):
            shared.record_interaction(
                customer_id, expected_version=2, kind="note", summary="late", occurred_at=occurred_at, recorded_by="x"
            )


def test_a_command_without_expected_version_that_loses_a_race_is_decided_again(
    app: CustomerApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process wrote between this one's load and save: the command is decided on the newer version."""
    customer_id = register(app)
    stale = app.get(customer_id)
    app.add_contact_point(customer_id, expected_version=None, kind="phone", value="13800138000")
    real_get, calls = app.get, []

    def get(wanted: UUID) -> Customer:
        calls.append(wanted)
        return stale if len(calls) == 1 else real_get(wanted)

    monkeypatch.setattr(app, "get", get)
    version = app.change_consent(customer_id, expected_version=None, channel="email", granted=True)
    assert (version, len(calls)) == (3, 2)
    assert real_get(customer_id).consent["email"] is True
