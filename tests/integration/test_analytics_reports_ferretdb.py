"""Every report on FerretDB gives exactly what the unit tests' hand-computed fixtures give in memory.

The fixtures (orders, opportunities, campaigns, tickets, social posts) are written as the
projection writes them (`customer_timeline`, `business_events`, `customer_360`), then each
report is read through the real analytics API and compared with the in-memory run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from services.analytics.jobs import write_scores
from services.analytics.metrics import recompute_metrics
from services.analytics.reports.source import Db
from services.analytics.settings import AnalyticsSettings
from services.analytics.tests import test_reports as fixtures
from services.analytics.tests.apptest import auth, client
from services.analytics.tests.test_metrics import AS_OF, POPULATION
from services.analytics.tests.timeline_fixtures import store
from tests.integration.platform import Platform

REPORTS = ("kpis", "revenue", "cohorts", "lifecycle", "churn-rate", "clv", "churn-watch", "acquisition", "pipeline",
           "campaigns", "support", "social")  # fmt: skip
PARAMS = {"until": "2026-07-01T00:00:00Z", "since": "2026-01-01T00:00:00Z"}


async def metrics_and_scores(db: Db) -> int:
    """The metrics job as of the fixtures' date, and made-up scores for every customer (in id order)."""
    written = await recompute_metrics(db, AnalyticsSettings(), AS_OF)
    ids = sorted([d["_id"] async for d in db["customer_360"].find({}, {"_id": 1})])
    await write_scores(
        db, {c: {"clv": {"clv": 7.5 * n * n}, "churn": {"risk": round(n / 10, 2)}} for n, c in enumerate(ids)}
    )
    return written


def in_memory() -> dict[str, Any]:
    db = store([*POPULATION, *fixtures.PIPELINE, *fixtures.MARKETING, *fixtures.SUPPORT, *fixtures.SOCIAL])
    asyncio.run(metrics_and_scores(db))  # type: ignore[arg-type]
    api = client(db)
    return {name: api.get(f"/reports/{name}", params=PARAMS, headers=auth("analyst")).json() for name in REPORTS}


def load(platform: Platform) -> None:
    db = store([*POPULATION, *fixtures.PIPELINE, *fixtures.MARKETING, *fixtures.SUPPORT, *fixtures.SOCIAL])
    for name in ("customer_timeline", "business_events", "customer_360"):
        platform.mongo[name].insert_many(list(db[name].docs.values()))

    assert on_ferretdb(platform, metrics_and_scores) == 5


def on_ferretdb(platform: Platform, work: Callable[[Db], Awaitable[int]]) -> int:
    async def run() -> int:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.stack.env["CRM_MONGO_URL"], tz_aware=True)
        try:
            return await work(mongo[platform.mongo.name])
        finally:
            await mongo.close()

    return asyncio.run(run())


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


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_every_report_round_trips_through_its_snapshot_and_a_job_refreshes_those_it_read(platform: Platform) -> None:
    """Default window: the second answer is the stored one, equal to the first; a metrics run moves only theirs."""
    platform.start("analytics")
    load(platform)
    url, analyst = platform.url("analytics"), platform.headers("analyst")

    def everything() -> dict[str, dict[str, Any]]:
        answers = {name: httpx.get(f"{url}/reports/{name}", headers=analyst, timeout=30) for name in REPORTS}
        assert all(r.status_code == 200 for r in answers.values()), {n: r.text for n, r in answers.items()}
        return {name: r.json() for name, r in answers.items()}

    first, second = everything(), everything()
    for name in REPORTS:
        assert second[name]["computed_at"] == first[name]["computed_at"], f"{name} was not served from its snapshot"
        assert {k: v for k, v in second[name].items() if k != "until"} == {
            k: v for k, v in first[name].items() if k != "until"
        }, name
    assert first["churn-watch"]["rows"]
    assert first["clv"]["summary"]["customers"] == 5

    on_ferretdb(platform, lambda db: recompute_metrics(db, AnalyticsSettings(), AS_OF))
    third = everything()
    moved = {name for name in REPORTS if third[name]["computed_at"] != first[name]["computed_at"]}
    assert moved == {"kpis", "lifecycle", "clv", "churn-watch", "acquisition"}


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_the_rate_table_on_ferretdb_converts_the_revenue_report(platform: Platform) -> None:
    """Entered (201), corrected (200), used by `convert=true`, removed (204), then gone (404)."""
    platform.start("analytics")
    load(platform)
    url, admin = platform.url("analytics"), platform.headers("admin")
    rate = f"{url}/fx-rates/CNY/2020-01-01"
    assert httpx.put(rate, json={"rate": "0.2"}, headers=admin, timeout=30).status_code == 201
    assert httpx.put(rate, json={"rate": "0.14"}, headers=admin, timeout=30).status_code == 200
    listed = httpx.get(f"{url}/fx-rates", headers=platform.headers("analyst"), timeout=30).json()
    assert [(r["currency"], r["rate"]) for r in listed] == [("CNY", "0.14")]
    body = httpx.get(f"{url}/reports/revenue", params=PARAMS | {"convert": "true"}, headers=admin, timeout=30).json()
    assert body["rows"]
    assert all(r["converted_net_revenue"] == r["net_revenue"] for r in body["rows"] if r["currency"] == "USD")
    assert httpx.delete(rate, headers=admin, timeout=30).status_code == 204
    assert httpx.delete(rate, headers=admin, timeout=30).status_code == 404
