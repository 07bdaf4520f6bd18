"""An in-memory stand-in for the few MongoDB operations the models job and metrics use (unit tests only)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterable
from typing import Any

from pymongo import UpdateOne

Doc = dict[str, Any]
MISSING = object()


def _get(doc: Doc, path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _matches_one(value: Any, condition: Any) -> bool:
    if not isinstance(condition, dict) or not any(k.startswith("$") for k in condition):
        return value is not MISSING and value == condition
    for op, operand in condition.items():
        present = value is not MISSING and value is not None
        if op == "$in" and (value is MISSING or value not in operand):
            return False
        if op == "$ne" and (value if value is not MISSING else None) == operand:
            return False
        if op == "$exists" and (value is not MISSING) != bool(operand):
            return False
        if op in ("$gt", "$gte", "$lt", "$lte") and not present:
            return False
    return True


def matches(doc: Doc, query: Doc) -> bool:
    """Equality, `$in`, `$ne` and `$exists` on dotted paths."""
    return all(_matches_one(_get(doc, path), condition) for path, condition in query.items())


def _set(doc: Doc, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[last] = copy.deepcopy(value)


class Cursor:
    """Async iteration over a snapshot of documents."""

    def __init__(self, docs: Iterable[Doc]) -> None:
        self.docs = [copy.deepcopy(d) for d in docs]

    def __aiter__(self) -> AsyncIterator[Doc]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Doc]:
        for doc in self.docs:
            yield doc


class Collection:
    """Documents by `_id`, with the operations analytics' jobs use."""

    def __init__(self) -> None:
        self.docs: dict[Any, Doc] = {}
        self.bulk_sizes: list[int] = []

    def find(self, query: Doc | None = None, projection: Doc | None = None) -> Cursor:
        return Cursor(d for d in self.docs.values() if matches(d, query or {}))

    async def find_one(self, query: Doc, projection: Doc | None = None, sort: list[Any] | None = None) -> Doc | None:
        found = [d for d in self.docs.values() if matches(d, query)]
        for key, direction in reversed(sort or []):
            found.sort(key=lambda d: _get(d, key), reverse=direction < 0)
        return copy.deepcopy(found[0]) if found else None

    async def insert_many(self, docs: list[Doc], ordered: bool = True) -> None:
        for doc in docs:  # recompute_metrics inserts new customers' documents in bulk
            self.docs[doc["_id"]] = copy.deepcopy(doc)

    async def replace_one(self, query: Doc, doc: Doc, upsert: bool = False) -> None:
        self.docs[query["_id"]] = copy.deepcopy(doc)

    async def update_one(self, query: Doc, update: Doc, upsert: bool = False) -> None:
        doc = self.docs.get(query["_id"])
        if doc is None:
            if not upsert:
                return
            doc = self.docs.setdefault(query["_id"], {"_id": query["_id"]})
        self._apply(doc, update)

    async def update_many(self, query: Doc, update: Doc) -> None:
        for doc in self.docs.values():
            if matches(doc, query):
                self._apply(doc, update)

    async def bulk_write(self, requests: list[UpdateOne], ordered: bool = True) -> None:
        self.bulk_sizes.append(len(requests))
        for request in requests:
            await self.update_one(dict(request._filter), dict(request._doc), upsert=bool(request._upsert))  # type: ignore[arg-type]

    @staticmethod
    def _apply(doc: Doc, update: Doc) -> None:
        for path, value in update.get("$set", {}).items():
            _set(doc, path, value)
        for path in update.get("$unset", {}):
            doc.pop(path, None)


class Database:
    """Collections created on first use."""

    def __init__(self) -> None:
        self.collections: dict[str, Collection] = {}

    def __getitem__(self, name: str) -> Collection:
        return self.collections.setdefault(name, Collection())
