"""An in-memory stand-in for the few PyMongo async calls the projection makes, so its tests need no server."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterable
from typing import Any

from pymongo import ReplaceOne
from pymongo.errors import BulkWriteError

Doc = dict[str, Any]


def _matches(doc: Doc, query: Doc) -> bool:
    for key, want in query.items():
        if isinstance(want, dict) and "$in" in want:
            if doc.get(key) not in want["$in"]:
                return False
        elif doc.get(key) != want:
            return False
    return True


class FakeCursor:
    """The result of `find`: async-iterable copies, in insertion order."""

    def __init__(self, docs: Iterable[Doc]) -> None:
        self.docs = [copy.deepcopy(d) for d in docs]

    def __aiter__(self) -> AsyncIterator[Doc]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Doc]:
        for doc in self.docs:
            yield doc


class FakeCollection:
    """Documents by `_id`; counts the calls the projection makes so tests can see the write pattern."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}
        self.bulk_sizes: list[int] = []

    async def create_index(self, keys: Any) -> None:
        """Indexes change no result here."""

    def find(self, query: Doc) -> FakeCursor:
        return FakeCursor(d for d in self.docs.values() if _matches(d, query))

    async def find_one(self, query: Doc, projection: Doc | None = None) -> Doc | None:
        found = [d for d in self.docs.values() if _matches(d, query)]
        return copy.deepcopy(found[0]) if found else None

    async def insert_many(self, docs: list[Doc], ordered: bool = True) -> None:
        errors = []
        for index, doc in enumerate(docs):
            if doc["_id"] in self.docs:
                errors.append({"index": index, "code": 11000})
            else:
                self.docs[doc["_id"]] = copy.deepcopy(doc)
        if errors:
            raise BulkWriteError({"writeErrors": errors})

    async def update_many(self, query: Doc, update: Doc) -> None:
        for doc in self.docs.values():
            if _matches(doc, query):
                doc.update(copy.deepcopy(update["$set"]))

    async def bulk_write(self, requests: list[ReplaceOne[Doc]]) -> None:
        self.bulk_sizes.append(len(requests))
        for request in requests:
            replacement: Doc = dict(request._doc)
            self.docs[replacement["_id"]] = copy.deepcopy(replacement)


class FakeDatabase:
    """Collections created on first use, like MongoDB's."""

    def __init__(self) -> None:
        self.collections: dict[str, FakeCollection] = {}

    def __getitem__(self, name: str) -> FakeCollection:
        return self.collections.setdefault(name, FakeCollection())
