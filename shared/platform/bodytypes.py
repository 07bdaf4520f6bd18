"""A JSON body holds the types its operation's document says: no `true` or `"3"` read as a number.

Pydantic's lax mode turns `true` into 1 and `"3"` into 3 for a number field, so
`{"expected_version": true}` was a version check against 1 and `{"discount_rate": true}`
a 100 % discount (schemathesis sent both: "schema-violating request accepted"). Every
number field would need its own strict flag; instead the input policy checks the parsed
body against the request schema of the operation it is for, as the OpenAPI document
states it, before any route reads it (`inputpolicy.Operations` finds that schema). Only
the coercions pydantic would make silently are refused here: a boolean, or text, where the
document allows only numbers; a number, or text, where it allows only true or false
(`{"active": 0}` switched a product off); a number where it allows only text (a date field
read `{"expected_close_date": 0}` as 1970-01-01). Every other mismatch pydantic refuses by
itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Schema = dict[str, Any]
NUMBERS = frozenset({"integer", "number"})
SCALARS = frozenset({"string", "boolean", "null"})
FORMATS = {"date-time": "an ISO 8601 date-time with an offset", "date": "an ISO 8601 date (YYYY-MM-DD)"}
"""What a refusal says is expected, for the string formats people send numbers for."""
NO_SCHEMA: Schema = {}


class TypeRefused(ValueError):
    """A value of a JSON type its schema does not allow; `loc` says where, the value is never quoted.

    `kind` names the type expected as pydantic names its errors (`number_type`, `bool_type`, `string_type`).
    """

    def __init__(self, loc: list[str | int], message: str, kind: str = "number_type") -> None:
        super().__init__(message)
        self.loc, self.message, self.kind = loc, message, kind


def check_types(value: Any, schema: Schema, components: Schema, loc: list[str | int] | None = None) -> None:
    """Raise `TypeRefused` where `value` holds a JSON type pydantic would silently coerce (see the module docstring)."""
    where: list[str | int] = loc if loc is not None else ["body"]
    alternatives = list(_alternatives(schema, components))
    if not alternatives or any("type" not in a for a in alternatives):
        return  # anything goes here (or a shape we do not read): pydantic decides
    types = {t for a in alternatives for t in _types(a)}
    if isinstance(value, bool) and "boolean" not in types and types & NUMBERS:
        raise TypeRefused(where, "a number is expected here, not true or false")
    if isinstance(value, str) and "string" not in types and types & NUMBERS:
        raise TypeRefused(where, "a number is expected here, not text")
    if isinstance(value, str) and "string" not in types and "boolean" in types:
        raise TypeRefused(where, "true or false is expected here, not text", "bool_type")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and not types & NUMBERS and types <= SCALARS and types - {"null"}:
        if "boolean" in types:
            raise TypeRefused(where, "true or false is expected here, not a number", "bool_type")
        formats = sorted({FORMATS.get(str(a.get("format")), "") for a in alternatives} - {""})
        raise TypeRefused(where, f"{' or '.join(formats) or 'text'} is expected here, not a number", "string_type")
    if isinstance(value, dict):
        for key, item in value.items():
            children = [c for a in alternatives if "object" in _types(a) for c in _property(a, key)]
            if children:
                check_types(item, {"anyOf": children}, components, [*where, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            children = [c for a in alternatives if "array" in _types(a) for c in _item(a, index)]
            if children:
                check_types(item, {"anyOf": children}, components, [*where, index])


def _types(schema: Schema) -> set[str]:
    kind = schema.get("type")
    return {kind} if isinstance(kind, str) else set(kind or ())


def _alternatives(schema: Schema, components: Schema, depth: int = 0) -> Iterable[Schema]:
    """The plain schemas `schema` stands for: references followed, `anyOf` / `oneOf` / `allOf` flattened."""
    if depth > 32:  # a reference cycle: stop reading, let pydantic decide
        yield NO_SCHEMA
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        target = components.get(ref.rsplit("/", 1)[-1])
        yield from _alternatives(target, components, depth + 1) if isinstance(target, dict) else [NO_SCHEMA]
        return
    branches = [*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())]
    if branches:
        for branch in branches:
            yield from _alternatives(branch, components, depth + 1)
        return
    yield schema


def _property(schema: Schema, key: str) -> list[Schema]:
    properties = schema.get("properties") or {}
    if key in properties:
        return [properties[key]]
    extra = schema.get("additionalProperties")
    return [extra] if isinstance(extra, dict) else []


def _item(schema: Schema, index: int) -> list[Schema]:
    prefix = schema.get("prefixItems") or []
    if index < len(prefix):
        return [prefix[index]]
    items = schema.get("items")
    return [items] if isinstance(items, dict) else []
