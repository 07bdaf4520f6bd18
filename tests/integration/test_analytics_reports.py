"""Metrics and reports end to end: CDNOW rows → sales → Kafka → analytics → metrics → analyst API (FerretDB).

Hand-computed, as of 1997-07-01 with the default rules:
- 00001: 01-01 $10, 01-20 $20, 06-15 $30 → active (gap 146 ≤ 180), $60, regular
- 00002: 01-05 $100                     → dormant (177 days), $100, potential (2 of 3 lower)
- 00003: 03-01 $5, 06-25 $7.50          → active, $12.50, regular
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from services.analytics.metrics import recompute_metrics
from services.analytics.settings import AnalyticsSettings
from shared.events.sales import customer_id_for_external
from tests.integration.platform import Platform, eventually

ROWS = """00001 19970101 1 10.00
00001 19970120 2 20.00
00001 19970615 1 30.00
00002 19970105 5 100.00
00003 19970301 1 5.00
00003 19970625 1 7.50
"""
AS_OF = datetime(1997, 7, 1, tzinfo=UTC)
IDS = {str(customer_id_for_external("cdnow", n)): n for n in ("00001", "00002", "00003")}


def recompute(platform: Platform) -> int:
    async def run() -> int:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.stack.env["CRM_MONGO_URL"], tz_aware=True)
        try:
            return await recompute_metrics(client[platform.mongo.name], AnalyticsSettings(), AS_OF)
        finally:
            await client.close()

    return asyncio.run(run())


def get(platform: Platform, path: str, **params: Any) -> httpx.Response:
    return httpx.get(
        f"{platform.url('analytics')}{path}", params=params, headers=platform.headers("analyst"), timeout=30
    )


def test_imported_orders_become_metrics_lists_and_reports(platform: Platform) -> None:
    for name in ("sales", "sales-relay", "analytics-projector", "analytics"):
        platform.start(name)
    imported = httpx.post(f"{platform.url('sales')}/imports/cdnow-orders", content=ROWS,
                          headers=platform.headers("integration"), timeout=60)  # fmt: skip
    assert imported.status_code == 200, imported.text
    eventually(lambda: platform.mongo["customer_timeline"].count_documents({}) == 6, timeout=90, what="6 orders")
    assert recompute(platform) == 3
    assert recompute(platform) == 3, "a recompute is idempotent"

    body = get(platform, "/customers", sort="-revenue").json()
    rows = [
        (IDS[r["id"]], r["lifecycle_stage"], r["value_tier"], r["revenue"], r["order_count"]) for r in body["items"]
    ]
    assert rows == [
        ("00002", "dormant", "potential", "100.00", 1),
        ("00001", "active", "regular", "60.00", 3),
        ("00003", "active", "regular", "12.50", 2),
    ]
    for sort in ("-revenue", "-clv", "recency", "-last_purchase"):  # -clv: every value null on FerretDB
        whole = [r["id"] for r in get(platform, "/customers", sort=sort).json()["items"]]
        paged, cursor = [], None
        while True:
            page = get(platform, "/customers", sort=sort, limit=1, **({"cursor": cursor} if cursor else {})).json()
            paged += [r["id"] for r in page["items"]]
            if not (cursor := page["next"]):
                break
        assert paged == whole, sort
        assert len(whole) == 3, sort
    assert [IDS[r["id"]] for r in get(platform, "/customers", lifecycle_stage="dormant").json()["items"]] == ["00002"]
    bad = get(platform, "/customers", lifecycle_stage="asleep")
    assert bad.status_code == 422
    assert "lifecycle_stage" in bad.text

    exported = get(platform, "/customers", format="csv", sort="-revenue")
    assert [row["rfm_score"] for row in csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig")))] == [
        "114", "242", "421"  # n = 3: scores 1 + floor(5 × {0, 1, 2} / 3) = 1, 2, 4
    ]  # fmt: skip
    revenue = get(platform, "/reports/revenue", until="1997-07-01T00:00:00Z").json()["rows"]
    assert [(r["period"], r["orders"], r["net_revenue"]) for r in revenue] == [
        ("1997-01", 3, "130.00"), ("1997-03", 1, "5.00"), ("1997-06", 2, "37.50")
    ]  # fmt: skip
    lifecycle = get(platform, "/reports/lifecycle").json()["summary"]
    assert lifecycle["stages"] == {"new": 0, "active": 2, "returning": 0, "dormant": 1, "churned": 0}
    cohorts = get(platform, "/reports/cohorts", until="1997-07-01T00:00:00Z").json()["rows"]
    assert [(r["offset"], r["customers"]) for r in cohorts if r["cohort"] == "1997-01"] == [
        (0, 2), (1, 0), (2, 0), (3, 0), (4, 0), (5, 1)
    ]  # fmt: skip
