"""An in-memory stand-in for the PyMongo async calls analytics makes (projection, metrics, reports, models).

It implements the query operators those modules use ($in, $nin, $ne, $gt, $gte, $lt,
$lte, $exists, $or, $and, dotted paths, `None` matching missing) with MongoDB's
semantics, so unit tests run without a server; the integration tests run the same code
against FerretDB.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

from pymongo import ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

Doc = dict[str, Any]
MISSING = object()


def get(doc: Doc, path: str) -> Any:
    """The value at a dotted path, MISSING if absent."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _compare(value: Any, op: str, want: Any) -> bool:
    if op == "$exists":
        return (value is not MISSING) is bool(want)
    if op == "$in":
        return any(_equal(value, w) for w in want)
    if op == "$nin":
        return not any(_equal(value, w) for w in want)
    if op == "$ne":
        return not _equal(value, want)
    numbers = isinstance(value, int | float) and isinstance(want, int | float)
    if not numbers and (value is MISSING or value is None or want is None or type(value) is not type(want)):
        return False
    result: bool = {"$gt": value > want, "$gte": value >= want, "$lt": value < want, "$lte": value <= want}[op]
    return result


def _equal(value: Any, want: Any) -> bool:
    return value in (None, MISSING) if want is None else value == want


def matches(doc: Doc, query: Doc) -> bool:
    """Whether `doc` matches the query."""
    for key, want in query.items():
        if key == "$and":
            ok = all(matches(doc, q) for q in want)
        elif key == "$or":
            ok = any(matches(doc, q) for q in want)
        elif isinstance(want, dict) and want and all(k.startswith("$") for k in want):
            ok = all(_compare(get(doc, key), op, w) for op, w in want.items())
        else:
            ok = _equal(get(doc, key), want)
        if not ok:
            return False
    return True


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, 0) if value in (None, MISSING) else (1, value)


class Cursor:
    """A `find` result: sort, limit, batch_size, async iteration."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = docs

    def sort(self, spec: list[tuple[str, int]]) -> Cursor:
        for field, direction in reversed(spec):
            self.docs.sort(key=lambda d: _sort_key(get(d, field)), reverse=direction < 0)
        return self

    def limit(self, n: int) -> Cursor:
        self.docs = self.docs[:n]
        return self

    def batch_size(self, n: int) -> Cursor:
        return self

    async def __aiter__(self) -> AsyncIterator[Doc]:
        for doc in self.docs:
            yield doc


def _set(doc: Doc, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        doc = doc.setdefault(part, {})
    doc[last] = value


class Collection:
    """One collection: documents by `_id`; `bulk_sizes` and `filters` record each bulk write and each
    find/update_many filter, so tests see the write pattern and the query shapes sent."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.docs: dict[Any, Doc] = {}
        self.bulk_sizes: list[int] = []
        self.filters: list[Doc] = []

    async def create_index(self, keys: Any, **options: Any) -> None:
        """Indexes change no result here."""

    def find(self, query: Doc | None = None, projection: Doc | None = None) -> Cursor:
        self.filters.append(query or {})
        return Cursor([copy.deepcopy(d) for d in self.docs.values() if matches(d, query or {})])

    async def find_one(
        self, query: Doc, projection: Doc | None = None, sort: list[tuple[str, int]] | None = None
    ) -> Doc | None:
        cursor = self.find(query)
        found = cursor.sort(sort).docs if sort else cursor.docs
        return found[0] if found else None

    async def insert_many(self, docs: list[Doc], ordered: bool = True) -> None:
        """Insert; an `_id` already there is a duplicate-key error (code 11000), as in MongoDB."""
        errors = []
        for index, doc in enumerate(docs):
            if doc["_id"] in self.docs:
                errors.append({"index": index, "code": 11000})
            else:
                self.docs[doc["_id"]] = copy.deepcopy(doc)
        if errors:
            raise BulkWriteError({"writeErrors": errors})

    async def insert_one(self, doc: Doc) -> None:
        """Insert; an `_id` already there raises DuplicateKeyError, as in MongoDB."""
        if doc["_id"] in self.docs:
            raise DuplicateKeyError(f"duplicate _id {doc['_id']!r}", 11000)
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    async def delete_one(self, query: Doc) -> SimpleNamespace:
        self.filters.append(query)
        target = next((k for k, d in self.docs.items() if matches(d, query)), MISSING)
        if target is not MISSING:
            del self.docs[target]
        return SimpleNamespace(deleted_count=int(target is not MISSING))

    async def delete_many(self, query: Doc) -> None:
        self.filters.append(query)
        for key in [k for k, d in self.docs.items() if matches(d, query)]:
            del self.docs[key]

    async def replace_one(self, query: Doc, doc: Doc, upsert: bool = False) -> SimpleNamespace:
        matched = int(query["_id"] in self.docs)
        if matched or upsert:
            self.docs[query["_id"]] = copy.deepcopy(doc)
        return SimpleNamespace(matched_count=matched)

    async def update_one(self, query: Doc, update: Doc, upsert: bool = False) -> None:
        target = next((d for d in self.docs.values() if matches(d, query)), None)
        if target is None and upsert:
            target = self.docs.setdefault(query["_id"], {"_id": query["_id"]})
        if target is not None:
            _apply(target, update)

    async def update_many(self, query: Doc, update: Doc) -> None:
        self.filters.append(query)
        for doc in self.docs.values():
            if matches(doc, query):
                _apply(doc, update)

    async def bulk_write(self, requests: list[UpdateOne | ReplaceOne[Doc]], ordered: bool = True) -> None:
        self.bulk_sizes.append(len(requests))
        for request in requests:
            query: Doc = dict(request._filter)
            if isinstance(request, ReplaceOne):
                await self.replace_one(query, dict(request._doc), upsert=bool(request._upsert))
            else:
                await self.update_one(query, dict(request._doc), upsert=bool(request._upsert))  # type: ignore[arg-type]


def _apply(doc: Doc, update: Doc) -> None:
    for path, value in (update.get("$set") or {}).items():
        _set(doc, path, copy.deepcopy(value))
    for path, value in (update.get("$inc") or {}).items():
        current = get(doc, path)
        _set(doc, path, (0 if current is MISSING else current) + value)
    for path in update.get("$unset") or {}:
        *parents, last = path.split(".")
        target: Any = doc
        for part in parents:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target.pop(last, None)


class Database:
    """Collections created on first use, like MongoDB's."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.collections: dict[str, Collection] = {}

    def __getitem__(self, name: str) -> Collection:
        return self.collections.setdefault(name, Collection(self))
