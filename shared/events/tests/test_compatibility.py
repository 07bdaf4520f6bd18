"""The compatibility rules that guard published event versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.events import EventRegistry, schemas
from shared.events.compatibility import breaking_changes
from shared.events.customer import CustomerRegisteredV1, PostalAddress

BASE: dict[str, Any] = {
    "properties": {"customer_id": {"type": "string", "format": "uuid"}, "name": {"type": "string"}},
    "required": ["customer_id", "name"],
}


def with_(**overrides: Any) -> dict[str, Any]:
    return {**BASE, **overrides}


def test_adding_an_optional_field_is_compatible() -> None:
    new = with_(properties={**BASE["properties"], "nickname": {"type": "string"}})
    assert breaking_changes(BASE, new) == []


def test_editing_a_description_is_compatible() -> None:
    new = with_(properties={**BASE["properties"], "name": {"type": "string", "description": "Full name"}})
    assert breaking_changes(BASE, new) == []


def test_removing_a_field_breaks() -> None:
    new = with_(properties={"customer_id": BASE["properties"]["customer_id"]}, required=["customer_id"])
    assert breaking_changes(BASE, new) == ["field 'name' was removed"]


def test_retyping_a_field_breaks() -> None:
    new = with_(properties={**BASE["properties"], "name": {"type": "integer"}})
    assert breaking_changes(BASE, new) == ["field 'name' changed type"]


def test_a_newly_required_field_breaks() -> None:
    new = with_(properties={**BASE["properties"], "tier": {"type": "string"}}, required=[*BASE["required"], "tier"])
    assert breaking_changes(BASE, new) == ["field 'tier' is newly required"]


def test_changing_a_shared_definition_breaks() -> None:
    old = with_(**{"$defs": {"Kind": {"enum": ["call", "email"]}}})
    new = with_(**{"$defs": {"Kind": {"enum": ["call"]}}})
    assert breaking_changes(old, new) == ["definition 'Kind' changed"]


def test_making_the_v1_address_structured_in_place_is_breaking(tmp_path: Path) -> None:
    class EditedRegisteredV1(CustomerRegisteredV1):  # what "just change v1" would look like
        """A new customer was registered, with their first contact points and consent."""

        event_type = "crm.customer.registered.v1"
        address: PostalAddress | None = None  # type: ignore[assignment]

    breaking, _ = schemas.problems(EventRegistry([EditedRegisteredV1]))
    assert breaking == ["crm.customer.registered.v1: field 'address' changed type"]
    name = CustomerRegisteredV1.schema_name()
    (tmp_path / name).write_text((schemas.SCHEMA_DIR / name).read_text("utf-8"), "utf-8")
    with pytest.raises(SystemExit, match="field 'address' changed type"):
        schemas.write(EventRegistry([EditedRegisteredV1]), directory=tmp_path)
