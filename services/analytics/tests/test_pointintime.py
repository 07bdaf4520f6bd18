"""Point-in-time 360: refolding the stored timeline up to T gives what the projection held at T."""

from __future__ import annotations

import json
from datetime import timedelta

from services.analytics import customer360
from services.analytics.pointintime import customer_as_of
from services.analytics.projection import CUSTOMER_360, Customer360Projection, Item
from services.analytics.tests.builders import T0, Stream
from services.analytics.tests.memorydb import Database
from services.analytics.tests.test_projection_merge import MERGED, SURVIVOR, history


def _canonical(doc: dict[str, object] | None) -> str:
    return json.dumps(doc, sort_keys=True)


async def _project(items: list[Item]) -> tuple[Database, Customer360Projection]:
    db = Database()
    projection = Customer360Projection(db)  # type: ignore[arg-type]
    await projection.apply_batch(items)
    return db, projection


async def test_at_every_event_the_refold_equals_the_projection_as_it_stood_then() -> None:
    before, merge, after = history()
    everything = sorted(before + merge + after, key=lambda item: item[0].time)  # the log, in time order
    _, projection = await _project(everything)
    for count in range(1, len(everything) + 1):
        then, _ = await _project(everything[:count])
        moment = everything[count - 1][0].time
        for customer in (SURVIVOR, MERGED):
            expected = then[CUSTOMER_360].docs.get(customer)
            assert _canonical(await customer_as_of(projection, customer, moment)) == _canonical(expected), (
                count,
                customer,
            )


async def test_before_the_first_event_there_is_no_customer() -> None:
    before, merge, after = history()
    _, projection = await _project(before + merge + after)
    assert await customer_as_of(projection, SURVIVOR, T0) is None
    assert await customer_as_of(projection, SURVIVOR, T0 + timedelta(minutes=1)) is not None


async def test_an_erased_customer_stays_erased_in_the_past() -> None:
    before, merge, after = history()
    erased = [*before, *merge, *after]
    s = Stream()
    s.tick, s.versions[SURVIVOR] = 100, 10
    erasure = s.make("crm.customer.erased.v1", SURVIVOR, SURVIVOR)
    _, projection = await _project([*erased, erasure])
    past = await customer_as_of(projection, SURVIVOR, T0 + timedelta(minutes=2))
    assert past is not None
    assert past["erased"] is True
    assert past["name"] is None
    assert past["emails"] == []
    assert past["event_count"] >= 1
    assert customer360.new_document(SURVIVOR)["erased"] is False
