"""A JSON body holds the types its operation's document says: no `true` or `"3"` read as a number.

Pydantic's lax mode turns `true` into 1 and `"3"` into 3 for a number field, so
`{"expected_version": true}` was a version check against 1 and `{"discount_rate": true}`
a 100 % discount (schemathesis sent both: "schema-violating request accepted"). Every
number field would need its own strict flag; instead the input policy checks the parsed
body against the request schema of the operation it is for, as the OpenAPI document
states it, before any route reads it. Only the coercions pydantic would make silently
are refused here: a boolean, or text, where the document allows only numbers. Every other
mismatch pydantic refuses by itself, with its own message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match
from starlette.types import Scope

Schema = dict[str, Any]
NUMBERS = frozenset({"integer", "number"})
NO_SCHEMA: Schema = {}


class TypeRefused(ValueError):
    """A value of a JSON type its schema does not allow; `loc` says where, the value is never quoted."""

    def __init__(self, loc: list[str | int], message: str) -> None:
        super().__init__(message)
        self.loc, self.message = loc, message


class BodySchemas:
    """The JSON request-body schema of each operation of one app, read once from its OpenAPI document."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], Schema | None] = {}

    def of(self, scope: Scope) -> tuple[Schema, Schema] | None:
        """(schema, components) of the operation `scope` is for, or None (no such route, no JSON body)."""
        app = scope.get("app")
        if app is None or not hasattr(app, "openapi"):
            return None
        route = next(
            (r for r in iter_route_contexts(app.routes) if r.matches(scope)[0] is Match.FULL),
            None,
        )
        if route is None or not isinstance(route.original_route, APIRoute):
            return None
        key = (str(scope["method"]), str(route.path_format))
        document: dict[str, Any] = app.openapi()
        if key not in self._found:
            operation = document.get("paths", {}).get(route.path_format, {}).get(scope["method"].lower(), {})
            content = (operation.get("requestBody") or {}).get("content", {})
            media = content.get("application/json") or next(
                (m for name, m in content.items() if name.endswith("+json")), None
            )
            self._found[key] = (media or {}).get("schema")
        schema = self._found[key]
        return None if schema is None else (schema, document.get("components", {}).get("schemas", {}))


def check_types(value: Any, schema: Schema, components: Schema, loc: list[str | int] | None = None) -> None:
    """Raise `TypeRefused` where `value` holds a boolean or text that `schema` allows only as a number."""
    where: list[str | int] = loc if loc is not None else ["body"]
    alternatives = list(_alternatives(schema, components))
    if not alternatives or any("type" not in a for a in alternatives):
        return  # anything goes here (or a shape we do not read): pydantic decides
    types = {t for a in alternatives for t in _types(a)}
    if isinstance(value, bool) and "boolean" not in types and types & NUMBERS:
        raise TypeRefused(where, "a number is expected here, not true or false")
    if isinstance(value, str) and "string" not in types and types & NUMBERS:
        raise TypeRefused(where, "a number is expected here, not text")
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
