"""Every report on FerretDB gives exactly what the unit tests' hand-computed fixtures give in memory.

The fixtures (orders, opportunities, campaigns, tickets, social posts) are written as the
projection writes them (`customer_timeline`, `business_events`, `customer_360`), then each
report is read through the real analytics API and compared with the in-memory run.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from services.analytics.metrics import recompute_metrics
from services.analytics.settings import AnalyticsSettings
from services.analytics.tests import test_reports as fixtures
from services.analytics.tests.apptest import auth, client
from services.analytics.tests.test_metrics import AS_OF, POPULATION
from services.analytics.tests.timeline_fixtures import store
from tests.integration.platform import Platform

REPORTS = ("kpis", "revenue", "cohorts", "lifecycle", "churn-rate", "acquisition", "pipeline", "campaigns", "support",
           "social")  # fmt: skip
PARAMS = {"until": "2026-07-01T00:00:00Z", "since": "2026-01-01T00:00:00Z"}


def in_memory() -> dict[str, Any]:
    db = store([*POPULATION, *fixtures.PIPELINE, *fixtures.MARKETING, *fixtures.SUPPORT, *fixtures.SOCIAL])
    asyncio.run(recompute_metrics(db, AnalyticsSettings(), AS_OF))  # type: ignore[arg-type]
    api = client(db)
    return {name: api.get(f"/reports/{name}", params=PARAMS, headers=auth("analyst")).json() for name in REPORTS}


def load(platform: Platform) -> None:
    db = store([*POPULATION, *fixtures.PIPELINE, *fixtures.MARKETING, *fixtures.SUPPORT, *fixtures.SOCIAL])
    for name in ("customer_timeline", "business_events", "customer_360"):
        platform.mongo[name].insert_many(list(db[name].docs.values()))

    async def run() -> int:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.stack.env["CRM_MONGO_URL"], tz_aware=True)
        try:
            return await recompute_metrics(mongo[platform.mongo.name], AnalyticsSettings(), AS_OF)
        finally:
            await mongo.close()

    assert asyncio.run(run()) == 5


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_every_report_on_ferretdb_matches_the_hand_computed_fixtures(platform: Platform) -> None:
    platform.start("analytics")
    load(platform)
    expected = in_memory()
    url, analyst = platform.url("analytics"), platform.headers("analyst")
    for name in REPORTS:
        response = httpx.get(f"{url}/reports/{name}", params=PARAMS, headers=analyst, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json() == expected[name], name
    csv = httpx.get(f"{url}/reports/acquisition", params=PARAMS | {"format": "csv"}, headers=analyst, timeout=30)
    assert "春季促销" in csv.content.decode("utf-8-sig")
