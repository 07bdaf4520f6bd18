"""Packed documents behave as a dict of documents for `plan`, and fold to the same documents as a dict does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import bson
import pytest

from services.analytics.packed import PackedDocuments
from services.analytics.projection import plan
from services.analytics.tests.builders import Stream, order


def test_a_document_survives_packing_with_its_order_and_an_aware_time() -> None:
    docs = PackedDocuments()
    docs["a"] = {"_id": "a", "z": 1, "seen": datetime(2026, 1, 2, 3, tzinfo=UTC), "tags": ["x", "客户"]}
    docs["a"]["z"] = 2  # a change to the decoded document is what gets packed
    docs.pack()
    assert list(docs["a"]) == ["_id", "z", "seen", "tags"]
    assert docs["a"] == {"_id": "a", "z": 2, "seen": datetime(2026, 1, 2, 3, tzinfo=UTC), "tags": ["x", "客户"]}
    assert docs.packed_bytes() > 0


def test_it_is_a_mapping_whether_packed_or_not() -> None:
    docs = PackedDocuments()
    docs["a"] = {"_id": "a"}
    docs.pack()
    docs["b"] = {"_id": "b"}
    assert ("a" in docs, "b" in docs, "c" in docs) == (True, True, False)
    assert (sorted(docs), len(docs), docs.get("c")) == (["a", "b"], 2, None)
    assert docs.setdefault("a", {"_id": "other"}) == {"_id": "a"}
    del docs["a"]
    with pytest.raises(KeyError):
        del docs["a"]
    assert bson.decode(docs.raw("b").raw) == {"_id": "b"}


def test_folding_into_packed_documents_gives_the_documents_a_dict_gives() -> None:
    s, customers = Stream(), [str(uuid4()) for _ in range(3)]
    items = [order(s, customers[n % 3], f"{n}.00", n) for n in range(12)]
    packed, plain = PackedDocuments(), dict[str, dict[str, Any]]()
    for start in range(0, len(items), 5):
        plan(packed, items[start : start + 5])
        packed.pack()
        plan(plain, items[start : start + 5])
    assert {c: packed[c] for c in customers} == {c: bson.decode(bson.encode(plain[c])) for c in customers}
