"""The customer aggregate: commands decide, events record, invariants hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from services.customer.domain import (
    CannotMergeIntoSelf,
    CannotRemoveLastContactPoint,
    ContactPointNotFound,
    Customer,
    CustomerErased,
    CustomerMerged,
    DuplicateContactPoint,
    InvalidContactPoint,
    InvalidInput,
)


def registered(**overrides: Any) -> Customer:
    fields: dict[str, Any] = {"name": "Ada Lovelace", "emails": ["ada@example.com"], "phones": [], "region": "GB"}
    customer = Customer.register(**(fields | overrides))
    customer.collect_events()
    return customer


def event_names(customer: Customer) -> list[str]:
    return [type(e).__name__ for e in customer.collect_events()]


def test_register_normalises_phone_to_e164() -> None:
    customer = registered(emails=[], phones=["020 7946 0958", "+44 20 7946 0958"])
    assert customer.phones == ["+442079460958"]


def test_register_records_one_registered_event_with_defaults() -> None:
    customer = Customer.register(name="Ada", emails=["ADA@Example.com"], phones=[])
    assert event_names(customer) == ["Registered"]
    assert customer.emails == ["ADA@example.com"]
    assert customer.source == "api"
    assert customer.consent == {"email": False, "sms": False, "phone": False, "social": False}
    assert customer.version == 1


def test_register_with_a_given_id_uses_it() -> None:
    customer_id = uuid4()
    assert registered(customer_id=customer_id).id == customer_id


def test_register_needs_an_email_or_phone() -> None:
    with pytest.raises(InvalidInput, match="at least one email or phone"):
        Customer.register(name="Ada", emails=[], phones=[])


def test_register_refuses_unknown_consent_channel() -> None:
    with pytest.raises(InvalidInput, match="consent channels"):
        registered(consent={"pigeon": True})


def test_profile_update_records_only_changed_fields() -> None:
    customer = registered(source="web", tags=["vip"])
    customer.update_profile(name="Ada King", source="web", tags=["VIP"])
    [updated] = customer.collect_events()
    assert (updated.name, updated.source, updated.tags, updated.address) == ("Ada King", None, None, None)  # type: ignore[attr-defined]


def test_profile_update_without_change_records_nothing() -> None:
    customer = registered(address="1 Main St")
    customer.update_profile(name=" Ada   Lovelace ", address="1 Main St")
    assert event_names(customer) == []


def test_blank_address_clears_it() -> None:
    customer = registered(address="1 Main St")
    customer.update_profile(address=" ")
    assert customer.address is None
    assert event_names(customer) == ["ProfileUpdated"]


def test_same_phone_in_another_format_is_a_duplicate() -> None:
    customer = registered(phones=["+442079460958"])
    with pytest.raises(DuplicateContactPoint):
        customer.add_contact_point("phone", "020 7946 0958", "GB")


def test_contact_point_added_in_canonical_form() -> None:
    customer = registered()
    customer.add_contact_point("phone", "138 0013 8000", "CN")
    assert customer.phones == ["+8613800138000"]


def test_invalid_contact_point_records_nothing() -> None:
    customer = registered()
    with pytest.raises(InvalidContactPoint):
        customer.add_contact_point("email", "nope", None)
    assert event_names(customer) == []


def test_last_contact_point_cannot_be_removed() -> None:
    customer = registered()
    with pytest.raises(CannotRemoveLastContactPoint):
        customer.remove_contact_point("email", "ada@example.com")


def test_removing_an_unknown_contact_point_is_refused() -> None:
    customer = registered()
    with pytest.raises(ContactPointNotFound):
        customer.remove_contact_point("email", "other@example.com")


def test_contact_point_removed_when_another_remains() -> None:
    customer = registered(phones=["+442079460958"])
    customer.remove_contact_point("email", "ada@example.com")
    assert (customer.emails, customer.phones) == ([], ["+442079460958"])


def test_interaction_is_recorded_in_utc() -> None:
    customer = registered()
    beijing = timezone(timedelta(hours=8))
    occurred_at = datetime(2024, 5, 1, 9, tzinfo=beijing)
    interaction_id = customer.record_interaction("call", " Discussed renewal ", occurred_at, "rep-1")
    [interaction] = customer.interactions
    assert interaction["id"] == interaction_id
    assert interaction["summary"] == "Discussed renewal"
    assert interaction["occurred_at"] == datetime(2024, 5, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "summary", "occurred_at"),
    [
        ("fax", "hello", datetime(2024, 1, 1, tzinfo=UTC)),
        ("call", "   ", datetime(2024, 1, 1, tzinfo=UTC)),
        ("call", "hello", datetime(2024, 1, 1)),  # naive: ambiguous
    ],
)
def test_invalid_interaction_records_nothing(kind: str, summary: str, occurred_at: datetime) -> None:
    customer = registered()
    with pytest.raises(InvalidInput):
        customer.record_interaction(kind, summary, occurred_at, "rep-1")
    assert event_names(customer) == []


def test_consent_changes_per_channel_and_unchanged_consent_records_nothing() -> None:
    customer = registered(consent={"email": True})
    customer.change_consent("sms", True)
    customer.change_consent("email", True)
    assert customer.consent == {"email": True, "sms": True, "phone": False, "social": False}
    assert event_names(customer) == ["ConsentChanged"]


def test_absorb_takes_contact_points_and_tags_of_the_duplicate() -> None:
    survivor = registered(phones=["+442079460958"], tags=["vip"])
    duplicate = registered(emails=["ada@work.example", "ada@example.com"], tags=["b2b", "vip"])
    survivor.absorb(duplicate)
    assert survivor.emails == ["ada@example.com", "ada@work.example"]
    assert survivor.tags == ["b2b", "vip"]
    assert survivor.merged_from == [duplicate.id]
    assert duplicate.merged_into == survivor.id
    assert (event_names(survivor), event_names(duplicate)) == (["Absorbed"], ["MergedInto"])


def test_absorb_keeps_one_of_two_emails_that_differ_only_in_case() -> None:
    survivor = registered(emails=["wang.fang@example.cn"])
    duplicate = registered(emails=["WANG.FANG@example.cn", "Fang@Work.example", "fang@work.example"])
    survivor.absorb(duplicate)
    assert survivor.emails == ["wang.fang@example.cn", "Fang@work.example"]  # domains are lower-cased on entry


def test_merged_customer_refuses_commands_naming_the_survivor() -> None:
    survivor, duplicate = registered(), registered()
    survivor.absorb(duplicate)
    with pytest.raises(CustomerMerged) as raised:
        duplicate.change_consent("email", True)
    assert raised.value.survivor_id == survivor.id


def test_cannot_merge_into_self() -> None:
    customer = registered()
    with pytest.raises(CannotMergeIntoSelf):
        customer.absorb(customer)


def test_erase_clears_pii_and_blocks_commands() -> None:
    customer = registered(phones=["+442079460958"], address="1 Main St", tags=["vip"])
    customer.record_interaction("note", "Prefers mornings", datetime.now(UTC), "rep-1")
    customer.erase()
    assert (customer.name, customer.emails, customer.phones, customer.address, customer.tags) == ("", [], [], None, [])
    assert customer.interactions[0]["summary"] == ""
    assert customer.erased
    with pytest.raises(CustomerErased):
        customer.update_profile(name="Ada")


def test_erasing_twice_records_one_event() -> None:
    customer = registered()
    customer.erase()
    customer.erase()
    assert event_names(customer) == ["Erased"]


def test_merged_customer_can_still_be_erased() -> None:
    survivor, duplicate = registered(), registered()
    survivor.absorb(duplicate)
    duplicate.erase()
    assert duplicate.erased


def test_a_national_phone_number_is_read_in_the_country_of_the_address() -> None:
    """No default region configured: the customer's address says where `138 1234 5678` was issued."""
    customer = Customer.register(
        name="王芳", emails=[], phones=["138 1234 5678"], address={"lines": ["人民路 1 号"], "country": "CN"}
    )
    assert customer.phones == ["+8613812345678"]
    customer.add_contact_point("phone", "(021) 6123 4567")
    assert customer.phones == ["+8613812345678", "+862161234567"]
    with pytest.raises(InvalidContactPoint, match="country code"):
        Customer.register(name="Ada", emails=[], phones=["020 7946 0958"])
