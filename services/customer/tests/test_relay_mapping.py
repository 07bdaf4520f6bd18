"""Every customer domain event maps to a valid public event; the relay never guesses."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.customer.application import CustomerApplication
from services.customer.domain import Customer
from services.customer.relay import MAPPING, to_public
from shared.events.customer import CustomerProfileUpdatedV2, CustomerRegisteredV2


def events_of_a_full_life() -> list[object]:
    app = CustomerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, default_region="GB")
    survivor = app.register(name="Ada Lovelace", emails=["ada@example.com"], phones=[])
    dup = app.register(name="Ada Lovelace", emails=["ada@example.org"], phones=["07911 123456"])
    app.update_profile(survivor, expected_version=None, name="Ada King", address="12 St James's Sq", tags=["vip"])
    app.update_profile(survivor, expected_version=None, address="")
    app.add_contact_point(survivor, expected_version=None, kind="phone", value="+44 20 7946 0000")
    app.remove_contact_point(survivor, expected_version=None, kind="phone", value="+442079460000")
    app.record_interaction(
        survivor,
        expected_version=None,
        kind="meeting",
        summary="Engine",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        recorded_by="rep",
    )
    app.change_consent(survivor, expected_version=None, channel="email", granted=True)
    app.merge(survivor_id=survivor, merged_id=dup)
    app.erase(survivor)
    return [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(start=1, limit=100)]


def test_every_domain_event_class_has_a_mapping() -> None:
    assert {type(e) for e in events_of_a_full_life()} == set(MAPPING)


def test_every_event_of_a_full_life_maps_to_its_customer() -> None:
    for domain_event in events_of_a_full_life():
        public = to_public(domain_event)
        assert public is not None
        assert public.customer_id == domain_event.originator_id  # type: ignore[attr-defined]


def test_registration_carries_the_normalised_profile() -> None:
    registered = to_public(events_of_a_full_life()[1])
    assert isinstance(registered, CustomerRegisteredV2)
    assert registered.phones == ["+447911123456"]


def test_a_cleared_address_is_published_as_null_and_named_as_changed() -> None:
    updates = [to_public(e) for e in events_of_a_full_life() if isinstance(e, Customer.ProfileUpdated)]
    assert isinstance(updates[0], CustomerProfileUpdatedV2)
    assert updates[0].address is None, "the customer was erased: the address's key is shredded"
    assert isinstance(updates[1], CustomerProfileUpdatedV2)
    assert updates[1].changed == ["address"]
    assert updates[1].address is None
    assert updates[0] is not None
    assert UUID(str(updates[0].subject_id()))
