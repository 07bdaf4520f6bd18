"""A rebuild's documents in memory: timeline writes overlap the next batch, in order, failures surface."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from services.analytics.projection import Customer360Projection, _Batch
from services.analytics.rebuild import InMemoryDocuments
from services.analytics.tests.builders import Stream, order
from services.analytics.tests.memorydb import Database


class FailingAppend(Customer360Projection):
    """Its store refuses the first timeline write."""

    async def append(self, batch: _Batch) -> None:
        raise ConnectionError("store down")


def documents(projection: Customer360Projection) -> InMemoryDocuments:
    no_generations: Any = None  # only checkpoints and recovery use them
    return InMemoryDocuments(projection, no_generations, number=1)


async def test_every_batch_timeline_is_written_once_flushed() -> None:
    db = Database()
    memory = documents(Customer360Projection(db))  # type: ignore[arg-type]
    s, customer = Stream(), str(uuid4())
    first, second = [order(s, customer, "10.00", 1)], [order(s, customer, "20.00", 2)]
    await memory.apply(first)
    await memory.apply(second)
    await memory.flush()
    ids = sorted([e["_id"] async for e in db["customer_timeline"].find({})])
    assert ids == sorted(envelope.id for envelope, _ in first + second)
    assert memory.docs[customer]["sales"]["order_count"] == 2


async def test_a_failed_timeline_write_fails_the_next_step_not_silently() -> None:
    memory = documents(FailingAppend(Database()))  # type: ignore[arg-type]
    s, customer = Stream(), str(uuid4())
    await memory.apply([order(s, customer, "10.00", 1)])
    with pytest.raises(ConnectionError, match="store down"):
        await memory.apply([order(s, customer, "20.00", 2)])


async def test_abandoning_a_failed_write_leaves_nothing_to_wait_for() -> None:
    memory = documents(FailingAppend(Database()))  # type: ignore[arg-type]
    await memory.apply([order(Stream(), str(uuid4()), "10.00", 1)])
    memory.abandon()
    await memory.flush()  # nothing left to wait for
