"""Deterministic checksums of a projection generation, and the documents two generations disagree on.

Every document is encoded canonically (JSON, keys sorted, no whitespace, UTF-8, times
as UTC ISO 8601, decimals as strings) and hashed with SHA-256; a collection's checksum
hashes its documents' `id:digest` lines in id order, and the generation's checksum
hashes its collections' checksums. Folding is a pure function of the log, so a
rebuild from the same log gives the same checksum, and a mismatch names the very
documents that differ.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId

from services.analytics.generations import PROJECTION_COLLECTIONS, Db

Digests = dict[str, dict[str, str]]
"""collection → document id → SHA-256 of its canonical encoding."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, Decimal128):
        return str(value.to_decimal())
    if isinstance(value, Decimal | ObjectId):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} canonically")


def canonical(doc: dict[str, Any]) -> bytes:
    """The canonical encoding of one document."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain).encode()


@dataclass
class Checksum:
    """A generation's checksum, per collection and overall, with document counts."""

    value: str
    collections: dict[str, str]
    counts: dict[str, int]
    digests: Digests = field(default_factory=dict, repr=False)


async def digests(db: Db, collections: tuple[str, ...] = PROJECTION_COLLECTIONS) -> Digests:
    """Every document's digest, per collection (sorted here, not by the store, which may not sort stably)."""
    found: Digests = {}
    for name in collections:
        found[name] = {str(doc["_id"]): hashlib.sha256(canonical(doc)).hexdigest() async for doc in db[name].find({})}
    return found


def combine(found: Digests) -> Checksum:
    """The checksum of a set of digests."""
    per: dict[str, str] = {}
    for name in sorted(found):
        lines = "".join(f"{doc_id}:{digest}\n" for doc_id, digest in sorted(found[name].items()))
        per[name] = hashlib.sha256(lines.encode()).hexdigest()
    overall = hashlib.sha256("".join(f"{n}:{c}\n" for n, c in sorted(per.items())).encode()).hexdigest()
    return Checksum(overall, per, {name: len(docs) for name, docs in found.items()}, found)


async def checksum(db: Db) -> Checksum:
    """The checksum of the projection collections in `db`."""
    return combine(await digests(db))


@dataclass(frozen=True)
class Difference:
    """One document two generations disagree on."""

    collection: str
    id: str
    kind: str
    """"differs", "only in first" or "only in second"."""


def differences(first: Digests, second: Digests) -> list[Difference]:
    """Every document that is missing from one side or encodes differently, in a stable order."""
    found: list[Difference] = []
    for name in sorted(set(first) | set(second)):
        a, b = first.get(name, {}), second.get(name, {})
        for doc_id in sorted(set(a) | set(b)):
            if doc_id not in b:
                found.append(Difference(name, doc_id, "only in first"))
            elif doc_id not in a:
                found.append(Difference(name, doc_id, "only in second"))
            elif a[doc_id] != b[doc_id]:
                found.append(Difference(name, doc_id, "differs"))
    return found
