"""The directory: search and duplicate detection over the notification log."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from services.customer import directory
from services.customer.application import CustomerApplication
from services.customer.domain import CustomerMerged, CustomerNotFound, InvalidContactPoint


@pytest.fixture
def app() -> Iterator[CustomerApplication]:
    with CustomerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, default_region="CN") as application:
        yield application


def register(app: CustomerApplication, name: str, *emails: str, **overrides: Any) -> UUID:
    fields: dict[str, Any] = {"name": name, "emails": list(emails), "phones": []}
    return app.register(**(fields | overrides))


def ids(summaries: Any) -> list[UUID]:
    return [s.id for s in summaries]


def test_directory_sees_write_immediately(app: CustomerApplication) -> None:
    customer_id = register(app, "Ada Lovelace", "ada@example.com")
    assert ids(app.search(text="ada")) == [customer_id]
    app.update_profile(customer_id, expected_version=None, name="Ada King", tags=["vip"])
    [summary] = app.search(tag="VIP")
    assert (summary.name, summary.tags, summary.version) == ("Ada King", ("vip",), 2)


def test_search_by_text_is_a_case_insensitive_substring_of_the_name(app: CustomerApplication) -> None:
    ada = register(app, "Ada LOVELACE", "ada@example.com")
    register(app, "Grace Hopper", "grace@example.com")
    zhang = register(app, "张伟", "zw@example.com")
    assert ids(app.search(text="lovelace")) == [ada]
    assert ids(app.search(text="伟")) == [zhang]


def test_search_by_email_and_phone_normalises_the_input(app: CustomerApplication) -> None:
    customer_id = register(app, "Ada", "Ada@Example.com", phones=["+86 138 0013 8000"])
    assert ids(app.search(email="ada@EXAMPLE.COM")) == [customer_id]
    assert ids(app.search(phone="138-0013-8000")) == [customer_id]
    assert ids(app.search(email="ada@example.com", phone="13900139000")) == []


def test_search_with_an_invalid_email_is_refused(app: CustomerApplication) -> None:
    with pytest.raises(InvalidContactPoint):
        app.search(email="ada@")


def test_search_orders_by_name_key_then_id_and_limits(app: CustomerApplication) -> None:
    register(app, "bob", "b@example.com")
    first_ann = register(app, "Ann", "a1@example.com")
    second_ann = register(app, "ann", "a2@example.com")
    results = app.search()
    assert [s.name for s in results][-1] == "bob"
    assert ids(results[:2]) == sorted([first_ann, second_ann])
    assert len(app.search(limit=1)) == 1


def test_search_follows_contact_point_changes(app: CustomerApplication) -> None:
    customer_id = register(app, "Ada", "ada@example.com")
    app.add_contact_point(customer_id, expected_version=None, kind="email", value="ada@work.example")
    app.remove_contact_point(customer_id, expected_version=None, kind="email", value="ada@example.com")
    assert ids(app.search(email="ada@work.example")) == [customer_id]
    assert app.search(email="ada@example.com") == []


def test_erased_and_merged_customers_leave_the_directory(app: CustomerApplication) -> None:
    erased = register(app, "Secret Person", "secret@example.com", phones=["13800138000"])
    survivor = register(app, "Ada", "ada@example.com")
    merged = register(app, "Ada L.", "ada@work.example")
    app.erase(erased)
    app.merge(survivor_id=survivor, merged_id=merged)
    assert ids(app.search()) == [survivor]
    assert ids(app.search(email="ada@work.example")) == [survivor]
    state = repr(vars(app.directory))
    assert "Secret" not in state
    assert "secret@example.com" not in state
    assert "+8613800138000" not in state


def test_duplicates_found_by_normalised_phone(app: CustomerApplication) -> None:
    first = register(app, "Li Na", "li@example.com", phones=["138 0013 8000"])
    second = register(app, "Mr Wang", "wang@example.com", phones=["+86 138-0013-8000"])
    [candidate] = app.find_duplicates(first)
    assert candidate.id == second
    assert candidate.reasons == ("same phone +8613800138000",)
    assert candidate.score == directory.PHONE_WEIGHT


def test_duplicates_found_by_email_regardless_of_case(app: CustomerApplication) -> None:
    first = register(app, "Ada", "Ada@example.com")
    second = register(app, "Bob", "ada@example.com")
    assert ids(app.find_duplicates(first)) == [second]


def test_duplicates_found_by_fuzzy_chinese_name(app: CustomerApplication) -> None:
    first = register(app, "欧阳娜娜", "a@example.com")
    second = register(app, "欧阳娜", "b@example.com")
    register(app, "张伟", "c@example.com")
    [candidate] = app.find_duplicates(first)
    assert candidate.id == second
    assert candidate.reasons == ("similar name 0.86",)


def test_more_evidence_ranks_higher(app: CustomerApplication) -> None:
    me = register(app, "Ada Lovelace", "ada@example.com", phones=["13800138000"])
    name_only = register(app, "Ada Lovelace", "other@example.com")
    email_and_name = register(app, "Ada Lovelace", "ada@example.com")
    all_three = register(app, "Ada Lovelace", "ada@example.com", phones=["13800138000"])
    candidates = app.find_duplicates(me)
    assert ids(candidates) == [all_three, email_and_name, name_only]
    assert all(0 < c.score <= 1 for c in candidates)


def test_distinct_customers_are_not_duplicates(app: CustomerApplication) -> None:
    me = register(app, "Ada Lovelace", "ada@example.com")
    register(app, "Grace Hopper", "grace@example.com")
    assert app.find_duplicates(me) == []


def test_duplicates_of_unknown_or_merged_customer_are_refused(app: CustomerApplication) -> None:
    survivor, merged = register(app, "Ada", "a@example.com"), register(app, "Ada", "b@example.com")
    app.merge(survivor_id=survivor, merged_id=merged)
    with pytest.raises(CustomerMerged):
        app.find_duplicates(merged)
    with pytest.raises(CustomerNotFound):
        app.directory.find_duplicates(merged)


def test_directory_catches_up_in_batches(app: CustomerApplication, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(directory, "BATCH_SIZE", 2)
    registered = {register(app, f"Customer {n}", f"c{n}@example.com") for n in range(5)}
    assert set(ids(app.search())) == registered
    assert app.directory.position == 5


def test_directory_is_safe_under_concurrent_writes_and_reads(app: CustomerApplication) -> None:
    def register_and_search(n: int) -> None:
        register(app, f"Customer {n}", f"c{n}@example.com")
        assert app.search(email=f"c{n}@example.com")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(register_and_search, range(40)))
    assert len(app.search(limit=100)) == 40
