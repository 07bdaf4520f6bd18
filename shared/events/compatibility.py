"""Which schema changes break a subscriber of an existing event version.

Allowed within a version: adding an optional field, editing descriptions. Anything
else (a removed or retyped field, a newly required one) needs a new event version.
"""

from __future__ import annotations

from typing import Any

_COSMETIC = frozenset({"description", "title", "examples", "$id", "default"})


def _essence(schema: Any) -> Any:
    """`schema` without the keys that do not change what validates."""
    if isinstance(schema, dict):
        return {k: _essence(v) for k, v in schema.items() if k not in _COSMETIC}
    if isinstance(schema, list):
        return [_essence(v) for v in schema]
    return schema


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable reasons why `new` breaks subscribers written against `old`."""
    reasons: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, prop in old_props.items():
        if name not in new_props:
            reasons.append(f"field '{name}' was removed")
        elif _essence(prop) != _essence(new_props[name]):
            reasons.append(f"field '{name}' changed type")
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        reasons.append(f"field '{name}' is newly required")
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})
    for name, definition in old_defs.items():
        if name in new_defs and _essence(definition) != _essence(new_defs[name]):
            reasons.append(f"definition '{name}' changed")
    return reasons
