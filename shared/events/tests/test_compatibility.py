"""The compatibility rules that guard published event versions."""

from __future__ import annotations

from typing import Any

from shared.events.compatibility import breaking_changes

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
