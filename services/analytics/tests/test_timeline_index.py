"""A customer's timeline is read by `_id` through the 360's timeline index, never by `customer_id`.

On the local read store only `_id` conditions use an index (README, "Read store"), so
these tests check the query shapes sent as well as the answers.
"""

from __future__ import annotations

import json
from typing import Any

from services.analytics.projection import CUSTOMER_360, TIMELINE, TIMELINE_INDEX, Customer360Projection, Item
from services.analytics.tests.builders import Stream
from services.analytics.tests.memorydb import Database
from services.analytics.tests.test_projection_merge import MERGED, SURVIVOR, history


async def _project(*batches: list[Item]) -> tuple[Database, Customer360Projection]:
    db = Database()
    projection = Customer360Projection(db)  # type: ignore[arg-type]
    for batch in batches:
        await projection.apply_batch(batch)
    return db, projection


def _only_by_id(filters: list[dict[str, Any]]) -> bool:
    return all(set(f) == {"_id"} for f in filters)


async def test_the_index_lists_every_entry_in_time_order_whatever_order_the_streams_arrived_in() -> None:
    before, merge, after = history()
    log = before + merge + after
    in_order, _ = await _project(log)
    # Kafka keeps each stream's order but not the order between streams: other streams first, then redelivered.
    by_stream = sorted(log, key=lambda item: item[0].source == "/crm/customer")
    assert by_stream != log
    shuffled, _ = await _project(by_stream, log)
    merged = in_order[CUSTOMER_360].docs[MERGED][TIMELINE_INDEX]
    assert merged == sorted(merged)
    assert [entry.split("|")[1] for entry in merged] == [
        e.id for e, _ in sorted(before + merge + after, key=lambda i: i[0].time) if e.subject == MERGED
    ]
    for customer in (SURVIVOR, MERGED):
        assert json.dumps(shuffled[CUSTOMER_360].docs[customer][TIMELINE_INDEX]) == json.dumps(
            in_order[CUSTOMER_360].docs[customer][TIMELINE_INDEX]
        )


async def test_pages_of_a_survivor_cover_its_own_and_the_absorbed_timeline_once_by_id_only() -> None:
    before, merge, after = history()
    db, projection = await _project(before + merge + after)
    db[TIMELINE].filters.clear()
    pages, cursor = [], None
    while True:
        page = await projection.timeline_page(SURVIVOR, limit=3, after=cursor)
        pages += page
        if len(page) < 3:
            break
        cursor = f"{page[-1]['time']}|{page[-1]['_id']}"
    expected = sorted(
        (e for e in db[TIMELINE].docs.values() if e["customer_id"] in (SURVIVOR, MERGED)),
        key=lambda e: (e["time"], e["_id"]),
    )
    assert pages == expected
    assert len(pages) == sum(1 for e, _ in before + merge + after if e.subject in (SURVIVOR, MERGED))
    assert _only_by_id(db[TIMELINE].filters), db[TIMELINE].filters


async def test_an_erasure_wipes_its_own_and_the_absorbed_entries_by_id() -> None:
    before, merge, after = history()
    s = Stream()
    s.tick, s.versions[SURVIVOR] = 100, 10
    db, _ = await _project(before + merge + after)
    db[TIMELINE].filters.clear()
    await Customer360Projection(db).apply_batch([s.make("crm.customer.erased.v1", SURVIVOR, SURVIVOR)])  # type: ignore[arg-type]
    entries = [e for e in db[TIMELINE].docs.values() if e["customer_id"] in (SURVIVOR, MERGED)]
    assert entries
    assert all(e["erased"] and e["data"] == {} for e in entries)
    assert _only_by_id(db[TIMELINE].filters), db[TIMELINE].filters


async def test_a_document_from_before_the_index_is_still_read_by_customer() -> None:
    before, merge, after = history()
    db, projection = await _project(before + merge + after)
    with_index = await projection.timeline_page(SURVIVOR, limit=50, after=None)
    for doc in db[CUSTOMER_360].docs.values():
        del doc[TIMELINE_INDEX]
    assert await projection.timeline_page(SURVIVOR, limit=50, after=None) == with_index
    assert await projection.timeline_page("no-such-customer", limit=50, after=None) == []
