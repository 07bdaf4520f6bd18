"""Upcasting: a v1 message parses to the newest version, chains work, invalid v1 is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import pytest
from pydantic import ValidationError

from shared.events import REGISTRY, EventEnvelope, EventRegistry, PublicEvent, asyncapi
from shared.events import customer as c
from shared.events.upcasting import Upcast, UpcasterConflict, Upcasters

CUSTOMER = UUID("8a7c4a52-5d0e-4c55-9d53-0e4b3c1f2a10")


def v1_record(event_type: str, data: dict[str, Any]) -> EventEnvelope:
    """A v1 message as an old relay put it on Kafka: headers and a JSON value, read back."""
    headers = {
        "ce_id": "e-1",
        "ce_source": "/crm/customer",
        "ce_type": event_type,
        "ce_specversion": "1.0",
        "ce_time": "2025-06-01T08:00:00+00:00",
        "ce_subject": str(CUSTOMER),
        "ce_dataschema": f"urn:crm:schema:{event_type}",
        "ce_aggregateid": str(CUSTOMER),
        "ce_aggregateversion": "1",
    }
    body = EventEnvelope.model_validate({**{k[3:]: v for k, v in headers.items()}, "data": data}).body()
    return EventEnvelope.from_kafka([(k, v.encode()) for k, v in headers.items()], body)


REGISTERED_V1: dict[str, Any] = {
    "customer_id": str(CUSTOMER),
    "name": "张伟",
    "emails": ["zhang.wei@example.cn"],
    "phones": ["+8613812345678"],
    "address": "北京市朝阳区建国路88号, 100022",
    "source": "web",
    "tags": ["vip"],
    "consent": {"email": True},
}


def test_a_v1_registration_envelope_parses_to_v2_with_the_address_as_one_line() -> None:
    event = REGISTRY.parse(v1_record("crm.customer.registered.v1", REGISTERED_V1))
    assert isinstance(event, c.CustomerRegisteredV2)
    assert event.address == c.PostalAddress(lines=["北京市朝阳区建国路88号, 100022"])
    assert (event.address.city, event.address.country) == (None, None), "no structure is guessed from the text"
    assert (event.name, event.tags, event.consent) == ("张伟", ["vip"], {"email": True})


@pytest.mark.parametrize("address", [None, "", "   "])
def test_a_v1_registration_without_an_address_has_none_in_v2(address: str | None) -> None:
    event = REGISTRY.parse(v1_record("crm.customer.registered.v1", {**REGISTERED_V1, "address": address}))
    assert isinstance(event, c.CustomerRegisteredV2)
    assert event.address is None


def test_a_v1_profile_update_parses_to_v2_and_a_removed_address_stays_removed() -> None:
    changed = REGISTRY.parse(
        v1_record(
            "crm.customer.profile_updated.v1",
            {"customer_id": str(CUSTOMER), "changed": ["address"], "address": "a, b"},
        )
    )
    removed = REGISTRY.parse(
        v1_record("crm.customer.profile_updated.v1", {"customer_id": str(CUSTOMER), "changed": ["address"]})
    )
    assert isinstance(changed, c.CustomerProfileUpdatedV2)
    assert isinstance(removed, c.CustomerProfileUpdatedV2)
    assert (changed.changed, changed.address) == (["address"], c.PostalAddress(lines=["a, b"]))
    assert (removed.changed, removed.address) == (["address"], None)


def test_a_v2_envelope_parses_unchanged() -> None:
    event = c.CustomerRegisteredV2(
        customer_id=CUSTOMER,
        name="王芳",
        emails=[],
        phones=["+8613900000000"],
        address=c.PostalAddress(lines=["建国路88号"], city="北京市", postal_code="100022", country="CN"),
        source="web",
    )
    envelope = EventEnvelope.wrap(
        event, source="/crm/customer", aggregate_id=CUSTOMER, aggregate_version=1, time=datetime.now(UTC)
    )
    assert REGISTRY.parse(envelope) == event


def test_an_invalid_v1_payload_is_refused_before_any_upcasting() -> None:
    structured = {**REGISTERED_V1, "address": {"lines": ["a"]}}  # v2's shape under the v1 type
    with pytest.raises(ValidationError):
        REGISTRY.parse(v1_record("crm.customer.registered.v1", structured))
    with pytest.raises(ValidationError):
        REGISTRY.parse(v1_record("crm.customer.registered.v1", {"customer_id": str(CUSTOMER), "name": "x"}))


@pytest.mark.parametrize(
    "address",
    [{"lines": []}, {"lines": ["a"] * 5}, {"lines": [""]}, {"lines": ["  "]}, {"lines": ["a"], "country": "cn"}],
    ids=["no-line", "five-lines", "empty-line", "blank-line", "lower-case-country"],
)
def test_an_invalid_postal_address_is_refused(address: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        c.PostalAddress.model_validate(address)


def test_model_answers_the_exact_version_and_latest_the_newest() -> None:
    assert REGISTRY.model("crm.customer.registered.v1") is c.CustomerRegisteredV1
    assert REGISTRY.latest("crm.customer.registered.v1") is c.CustomerRegisteredV2
    assert REGISTRY.latest("crm.customer.registered.v2") is c.CustomerRegisteredV2
    assert REGISTRY.latest("crm.customer.erased.v1") is c.CustomerErasedV1
    assert REGISTRY.topic("crm.customer.registered.v1") == REGISTRY.topic("crm.customer.registered.v2")


class _Thing(PublicEvent):
    topic: ClassVar[str] = "crm.test.v1"
    label: str


class ThingV1(_Thing):
    """v1: one label."""

    event_type = "crm.test.thing.v1"


class ThingV2(_Thing):
    """v2: labels."""

    event_type = "crm.test.thing.v2"
    labels: list[str]


class ThingV3(_Thing):
    """v3: labels and a count."""

    event_type = "crm.test.thing.v3"
    labels: list[str]
    count: int


def _v1_v2(e: ThingV1) -> ThingV2:
    return ThingV2(label=e.label, labels=[e.label])


def _v2_v3(e: ThingV2) -> ThingV3:
    return ThingV3(label=e.label, labels=e.labels, count=len(e.labels))


CHAIN = (Upcast(ThingV2, ThingV3, _v2_v3), Upcast(ThingV1, ThingV2, _v1_v2))


def _envelope(event_type: str, data: dict[str, object]) -> EventEnvelope:
    return EventEnvelope(
        id="x",
        source="/t",
        type=event_type,
        time=datetime.now(UTC),
        dataschema="u",
        aggregateid="a",
        aggregateversion=1,
        data=data,
    )


def test_a_chain_upcasts_v1_through_v2_to_v3() -> None:
    registry = EventRegistry([ThingV1, ThingV2, ThingV3], upcasts=CHAIN)
    from_v1 = registry.parse(_envelope("crm.test.thing.v1", {"label": "春"}))
    from_v2 = registry.parse(_envelope("crm.test.thing.v2", {"label": "a", "labels": ["a", "b"]}))
    assert from_v1 == ThingV3(label="春", labels=["春"], count=1)
    assert from_v2 == ThingV3(label="a", labels=["a", "b"], count=2)
    assert registry.latest("crm.test.thing.v1") is ThingV3
    assert registry.superseded_by(ThingV1) is ThingV2


def test_conflicting_upcasters_are_refused() -> None:
    with pytest.raises(UpcasterConflict, match="already upcasts"):
        Upcasters([Upcast(ThingV1, ThingV2, _v1_v2), Upcast(ThingV1, ThingV3, _v2_v3)])
    with pytest.raises(UpcasterConflict, match="loop"):
        Upcasters([Upcast(ThingV1, ThingV2, _v1_v2), Upcast(ThingV2, ThingV1, _v1_v2)])
    with pytest.raises(UpcasterConflict, match="different topics"):
        Upcasters([Upcast(ThingV1, c.CustomerRegisteredV2, _v1_v2)])
    with pytest.raises(ValueError, match="not in the registry"):
        EventRegistry([ThingV1], upcasts=[Upcast(ThingV1, ThingV2, _v1_v2)])


def test_an_upcaster_returning_the_wrong_version_is_an_error() -> None:
    upcasters = Upcasters([Upcast(ThingV1, ThingV3, _v1_v2)])
    with pytest.raises(TypeError, match="returned ThingV2"):
        upcasters.upcast(ThingV1(label="a"))


def test_asyncapi_lists_both_versions_and_marks_v1_superseded() -> None:
    doc = asyncapi.document()
    messages = doc["channels"]["crm.customer.v1"]["messages"]
    for version in ("v1", "v2"):
        assert f"crm.customer.registered.{version}" in messages
        assert f"crm.customer.profile_updated.{version}" in messages
    old = doc["components"]["messages"]["crm.customer.registered.v1"]
    new = doc["components"]["messages"]["crm.customer.registered.v2"]
    assert old["x-superseded-by"] == "crm.customer.registered.v2"
    assert old["payload"]["deprecated"] is True
    assert "x-superseded-by" not in new
    assert "deprecated" not in new["payload"]
    assert "PostalAddress" in new["payload"]["$defs"]
