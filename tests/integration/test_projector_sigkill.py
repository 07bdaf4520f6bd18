"""The projector SIGKILLed three times mid-batch, then restarted: every 360 is exact and the store stays responsive.

An outside run froze the analytics database once after such a kill (every read and
write to it hung until FerretDB restarted). Here the projector is killed while it writes
(its bulks are single transactions on our patched FerretDB: patch 0005), and after each
restart the store must answer at once; at the end every customer's order count equals
the orders sent for them, so no batch was lost or counted twice.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from uuid import uuid4

import pytest
from pymongo import MongoClient

from services.analytics.projection import Item
from services.analytics.tests.builders import Stream, order
from tests.integration.platform import Platform, eventually
from tests.integration.test_analytics_projection import send

CUSTOMERS, ORDERS, KILLS = 400, 4_000, 3


def history() -> tuple[list[Item], Counter[str]]:
    rng, s = random.Random(11), Stream()
    customers = [str(uuid4()) for _ in range(CUSTOMERS)]
    items = [s.make("crm.customer.registered.v1", c, c, name=f"客户 {n}", emails=[]) for n, c in enumerate(customers)]
    orders: Counter[str] = Counter()
    for _ in range(ORDERS):
        customer = rng.choice(customers)
        orders[customer] += 1
        items.append(order(s, customer, f"{rng.randint(5, 500)}.00", rng.randint(0, 300), "USD"))
    return items, orders


def responsive(platform: Platform) -> None:
    """The analytics database answers a read and a write within seconds (a frozen one would not)."""
    client: MongoClient[dict[str, object]] = MongoClient(
        platform.stack.env["CRM_MONGO_URL"], socketTimeoutMS=10_000, serverSelectionTimeoutMS=10_000
    )
    try:
        database = client[platform.mongo.name]
        database["customer_360"].find_one({"_id": "nobody"})
        database["probe"].replace_one({"_id": "probe"}, {"at": time.time()}, upsert=True)
    finally:
        client.close()


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_a_projector_killed_three_times_mid_batch_leaves_exact_360s(platform: Platform) -> None:
    items, orders = history()
    send(platform, items)
    timeline = platform.mongo["customer_timeline"]
    for kill in range(KILLS):
        projector = platform.start("analytics-projector")
        floor = timeline.count_documents({}) + 300

        def progressed(floor: int = floor) -> bool | None:
            return timeline.count_documents({}) >= floor or None

        eventually(progressed, timeout=90, what=f"progress before kill {kill + 1}")
        projector.kill(signal.SIGKILL)
        responsive(platform)
    assert timeline.count_documents({}) < len(items), "the kills must come before the projector caught up"

    projector = platform.start("analytics-projector")
    eventually(
        lambda: timeline.count_documents({}) == len(items) or None,
        timeout=180,
        what=f"every event projected after the kills: {projector.log}",
    )
    counts = {d["_id"]: d["sales"]["order_count"] for d in platform.mongo["customer_360"].find({}, {"sales": 1})}
    assert counts == dict(orders)
    responsive(platform)
