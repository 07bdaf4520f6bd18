"""Structured addresses: legacy one-line input, structured input, and v1 events already in the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.customer import address as postal
from services.customer.application import CustomerApplication
from services.customer.domain import Customer, InvalidInput
from services.customer.main import create_app
from services.customer.relay import to_public
from services.customer.settings import CustomerSettings
from shared.events.customer import CustomerProfileUpdatedV2, CustomerRegisteredV2, PostalAddress
from shared.platform.auth import AuthSettings, issue_token
from shared.platform.eventstore import EventStoreSettings, persistence_env

SECRET = "unit-test-secret-0123456789abcdef0123"
REP = {"Authorization": f"Bearer {issue_token(SECRET, 'user-1', ['sales_rep'])}"}
ZHANG: dict[str, Any] = {"name": "张伟", "emails": ["zhang.wei@example.cn"], "phones": []}
BEIJING = {"lines": ["建国路88号", "SOHO现代城A座1201"], "city": "北京市", "postal_code": "100022", "country": "CN"}


def one_line(text: str) -> dict[str, Any]:
    return {"lines": [text], "city": None, "region": None, "postal_code": None, "country": None}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = CustomerSettings(store={"sqlite_path": str(tmp_path / "customer.sqlite")}, default_phone_region="CN")
    with TestClient(create_app(settings, AuthSettings(secret=SecretStr(SECRET)))) as client:
        yield client


def written(api: TestClient) -> int:
    customers: CustomerApplication = api.app.state.customers  # type: ignore[attr-defined]
    return customers.recorder.max_notification_id() or 0


def test_a_legacy_one_line_address_is_kept_whole_as_the_only_line() -> None:
    assert postal.normalise("  北京市朝阳区, 建国路88号\n100022 ") == one_line("北京市朝阳区, 建国路88号 100022")
    assert postal.normalise("   ") is None


def test_a_structured_address_is_normalised() -> None:
    raw = {"lines": [" 1  Infinite Loop "], "city": "Cupertino", "region": " CA ", "postal_code": "", "country": "us"}
    assert postal.normalise(raw) == {
        "lines": ["1 Infinite Loop"],
        "city": "Cupertino",
        "region": "CA",
        "postal_code": None,
        "country": "US",
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"lines": []}, "1 to 4 lines"),
        ({"lines": ["a", "b", "c", "d", "e"]}, "1 to 4 lines"),
        ({"lines": ["a", "  "]}, "must not be empty"),
        ({"lines": ["a"], "country": "XX"}, "ISO 3166-1"),
        ({"lines": ["a"], "country": "CHN"}, "ISO 3166-1"),
        ({"lines": ["a"], "street": "b"}, "unknown parts"),
        ({"lines": ["a" * 501]}, "at most 500"),
    ],
)
def test_an_invalid_structured_address_records_nothing(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Customer.register(**ZHANG, address=raw)


def test_the_api_takes_a_legacy_string_and_returns_it_structured(api: TestClient) -> None:
    ref = api.post("/customers", json={**ZHANG, "address": "北京市朝阳区建国路88号"}, headers=REP).json()
    customer = api.get(f"/customers/{ref['id']}", headers=REP).json()
    assert customer["address"] == one_line("北京市朝阳区建国路88号")


def test_the_api_takes_a_structured_address_and_updates_and_removes_it(api: TestClient) -> None:
    ref = api.post("/customers", json={**ZHANG, "address": BEIJING}, headers=REP).json()
    url = f"/customers/{ref['id']}"
    assert api.get(url, headers=REP).json()["address"] == {**BEIJING, "region": None}
    moved = {"lines": ["淮海中路 999 号"], "city": "上海市", "country": "cn"}
    assert api.patch(url, json={"expected_version": 1, "address": moved}, headers=REP).json()["version"] == 2
    expected = {**moved, "region": None, "postal_code": None, "country": "CN"}
    assert api.get(url, headers=REP).json()["address"] == expected
    assert api.patch(url, json={"expected_version": 2, "address": ""}, headers=REP).json()["version"] == 3
    assert api.get(url, headers=REP).json()["address"] is None


@pytest.mark.parametrize(
    "address",
    [
        {**BEIJING, "country": "XX"},
        {**BEIJING, "country": "China"},
        {"lines": []},
        {"lines": ["  "]},
        {**BEIJING, "floor": 12},
        {"city": "北京市"},
    ],
    ids=["unassigned-country", "country-name", "no-lines", "blank-line", "unknown-part", "lines-missing"],
)
def test_an_invalid_address_is_422_and_writes_nothing(api: TestClient, address: dict[str, Any]) -> None:
    response = api.post("/customers", json={**ZHANG, "address": address}, headers=REP)
    assert response.status_code == 422, response.text
    assert written(api) == 0


def test_openapi_documents_both_address_forms_with_examples(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    create = spec["components"]["schemas"]["CustomerCreate"]["properties"]["address"]
    forms = {form.get("type") or form.get("$ref") for form in create["anyOf"]}
    assert {"string", "#/components/schemas/AddressIn", "null"} <= forms
    examples = spec["paths"]["/customers"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert examples["legacy"]["value"]["address"] == "北京市朝阳区建国路88号"
    assert examples["structured"]["value"]["address"]["country"] == "CN"


def store_v1(app: CustomerApplication, event_class: type[Any], customer_id: UUID, version: int, **state: Any) -> None:
    """Write an event as the service stored it before v2: one-line address text, no class version, PII sealed."""
    event = object.__new__(event_class)
    event.__dict__.update(originator_id=customer_id, originator_version=version, timestamp=datetime.now(UTC), **state)
    stored = app.mapper.to_stored_event(event)
    fields = app.mapper.transcoder.decode(stored.state)
    assert fields.pop("class_version") == 2, "the current class is v2; the store holds v1"
    encoded = app.mapper.transcoder.encode(fields)
    legacy = StoredEvent(stored.originator_id, stored.originator_version, stored.topic, encoded)
    app.recorder.insert_events([legacy])


def a_v1_history(app: CustomerApplication) -> UUID:
    customer_id = uuid4()
    registration = {
        "originator_topic": "services.customer.domain:Customer",
        "name": "李娜",
        "emails": ["li.na@example.cn"],
        "phones": [],
        "address": "上海市黄浦区, 南京东路100号",
        "source": "web",
        "tags": [],
        "consent": {"email": True, "sms": False, "phone": False, "social": False},
    }
    store_v1(app, Customer.Registered, customer_id, 1, **registration)
    update = {"name": None, "address": "广州市天河区体育西路1号", "source": None, "tags": None}
    store_v1(app, Customer.ProfileUpdated, customer_id, 2, **update)
    return customer_id


def test_v1_events_already_in_the_store_load_with_a_structured_address(tmp_path: Path) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "old.sqlite")))
    customer_id = a_v1_history(CustomerApplication(env=env))
    app = CustomerApplication(env=env)  # a new process after the upgrade
    assert app.get(customer_id).address == one_line("广州市天河区体育西路1号")
    assert app.get(customer_id).name == "李娜"
    app.update_profile(customer_id, expected_version=2, address=BEIJING)
    assert CustomerApplication(env=env).get(customer_id).address == {**BEIJING, "region": None}
    assert [row.id for row in app.search(text="李娜")] == [customer_id]


def test_a_v1_address_removal_still_reads_as_removed(tmp_path: Path) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "old.sqlite")))
    app = CustomerApplication(env=env)
    customer_id = a_v1_history(app)
    store_v1(app, Customer.ProfileUpdated, customer_id, 3, name=None, address="", source=None, tags=None)
    assert CustomerApplication(env=env).get(customer_id).address is None
    removal = to_public(app.mapper.to_domain_event(app.recorder.select_notifications(start=3, limit=1)[0]))
    assert isinstance(removal, CustomerProfileUpdatedV2)
    assert (removal.changed, removal.address) == (["address"], None)


def test_the_relay_publishes_v1_stored_events_as_v2(tmp_path: Path) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "old.sqlite")))
    app = CustomerApplication(env=env)
    a_v1_history(app)
    registered, updated = (
        to_public(app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(start=1, limit=10)
    )
    assert isinstance(registered, CustomerRegisteredV2)
    assert registered.address == PostalAddress(lines=["上海市黄浦区, 南京东路100号"])
    assert isinstance(updated, CustomerProfileUpdatedV2)
    assert (updated.changed, updated.address) == (["address"], PostalAddress(lines=["广州市天河区体育西路1号"]))


def test_a_snapshot_from_before_v2_is_upcast() -> None:
    state: dict[str, Any] = {"name": "", "address": "Arlington", "erased": True}
    Customer.upcast_v1_v2(state)
    assert state["address"] == one_line("Arlington")


def test_an_erased_customers_structured_address_is_shredded_and_published_as_none(tmp_path: Path) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "c.sqlite")))
    app = CustomerApplication(env=env)
    customer_id = app.register(**ZHANG, address=BEIJING)
    app.update_profile(customer_id, expected_version=1, address={"lines": ["淮海中路 999 号"], "country": "CN"})
    app.erase(customer_id)
    events = [to_public(app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(start=1, limit=9)]
    registered, updated = events[0], events[1]
    assert isinstance(registered, CustomerRegisteredV2)
    assert isinstance(updated, CustomerProfileUpdatedV2)
    assert (registered.address, updated.address) == (None, None)
    raw = b"".join(n.state for n in app.recorder.select_notifications(start=1, limit=9))
    assert "建国路".encode() not in raw
    assert "淮海中路".encode() not in raw
