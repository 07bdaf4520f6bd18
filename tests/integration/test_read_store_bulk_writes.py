"""A bulk of single-document writes behaves statement by statement, as MongoDB's does.

Our FerretDB patch 0005 (`deploy/local/ferretdb/`) holds the writes of an update
command's statements that name one document by `_id` and commits them together when the
command ends. These are the cases where holding a write could change a result: a later
statement of the same bulk must read what an earlier one wrote (the same document twice,
an upsert then an update), a statement the batch cannot hold (`multi`) must see the
writes held before it, and when a statement fails, the ones before it stay written.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from pymongo import MongoClient, ReplaceOne, UpdateMany, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from tests.integration.servers import Servers

Doc = dict[str, Any]


@pytest.fixture
def collection(real_servers: Servers) -> Iterator[Collection[Doc]]:
    client: MongoClient[Doc] = MongoClient(real_servers.mongo_url)
    name = f"bulk_{uuid4().hex[:8]}"
    try:
        yield client[name]["docs"]
    finally:
        client.drop_database(name)
        client.close()


def state(collection: Collection[Doc]) -> dict[str, Doc]:
    return {d.pop("_id"): d for d in collection.find({})}


def test_each_statement_reads_what_the_statements_before_it_wrote(collection: Collection[Doc]) -> None:
    collection.insert_many([{"_id": "a", "n": 0}, {"_id": "b", "n": 0}])
    result = collection.bulk_write(
        [
            UpdateOne({"_id": "a"}, {"$inc": {"n": 1}}),
            UpdateOne({"_id": "a"}, {"$inc": {"n": 1}}),  # the same document again
            UpdateOne({"_id": "new"}, {"$set": {"n": 5}}, upsert=True),
            UpdateOne({"_id": "new"}, {"$inc": {"n": 1}}),  # the document the upsert created
            UpdateMany({}, {"$inc": {"m": 1}}),  # not held: sees every write before it
            UpdateOne({"_id": "b"}, {"$inc": {"m": 10}}),
            ReplaceOne({"_id": "客户"}, {"name": "王芳"}, upsert=True),
        ]
    )
    assert (result.matched_count, result.modified_count, result.upserted_ids) == (7, 7, {2: "new", 6: "客户"})
    assert state(collection) == {
        "a": {"n": 2, "m": 1},
        "b": {"n": 0, "m": 11},
        "new": {"n": 6, "m": 1},
        "客户": {"name": "王芳"},
    }


def test_a_failing_statement_leaves_the_writes_before_it_and_none_after(collection: Collection[Doc]) -> None:
    collection.insert_many([{"_id": "a"}, {"_id": "b", "s": "text"}, {"_id": "c"}])
    # FerretDB answers a failed statement with a reply pymongo cannot merge (no `nModified`).
    with pytest.raises((BulkWriteError, KeyError)):
        collection.bulk_write(
            [
                UpdateOne({"_id": "a"}, {"$set": {"k": 1}}),
                UpdateOne({"_id": "b"}, {"$inc": {"s": 1}}),  # $inc of a string fails
                UpdateOne({"_id": "c"}, {"$set": {"k": 3}}),
            ]
        )
    assert state(collection) == {"a": {"k": 1}, "b": {"s": "text"}, "c": {}}
