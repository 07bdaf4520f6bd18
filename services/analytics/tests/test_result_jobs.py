"""Reports and exports as jobs: 202 at once, the rows read back later exactly as the direct answer gives them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.analytics import jobresults, metrics
from services.analytics.settings import AnalyticsSettings
from services.analytics.tests.apptest import auth, client
from services.analytics.tests.memorydb import Database
from services.analytics.tests.test_metrics import AS_OF, POPULATION
from services.analytics.tests.timeline_fixtures import store

ANALYST = auth("analyst")
UNTIL = "2026-07-01T00:00:00Z"


@pytest.fixture
async def db() -> Database:
    db = store(POPULATION, {"gus": {}})
    await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF)  # type: ignore[arg-type]
    return db


def finished(api: TestClient, response: Any) -> dict[str, Any]:
    """The job a 202 started, once it ended (bounded wait)."""
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    assert location == f"/jobs/{response.json()['id']}"
    deadline = time.monotonic() + 10
    job: dict[str, Any]
    while (job := api.get(location, headers=ANALYST).json())["state"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.02)
    return job


def test_a_report_job_keeps_exactly_the_rows_the_report_answers(db: Database) -> None:
    api = client(db, now=AS_OF)
    job = finished(api, api.post(f"/reports/revenue/jobs?until={UNTIL}&period=month", headers=ANALYST))
    direct = api.get(f"/reports/revenue?until={UNTIL}&period=month", headers=ANALYST).json()
    assert job["state"] == "succeeded", job
    assert job["kind"] == "report-revenue"
    assert (job["result"]["rows"], job["result"]["columns"]) == (len(direct["rows"]), direct["columns"])
    assert job["result"]["summary"] == direct["summary"]
    kept = api.get(f"/jobs/{job['id']}/result", headers=ANALYST)
    assert kept.json() == {"columns": direct["columns"], "rows": direct["rows"]}
    csv_direct = api.get(f"/reports/revenue?until={UNTIL}&period=month&format=csv", headers=ANALYST)
    csv_kept = api.get(f"/jobs/{job['id']}/result?format=csv", headers=ANALYST)
    assert csv_kept.text == csv_direct.text
    assert csv_kept.headers["content-type"].startswith("text/csv")


def test_an_export_job_keeps_the_list_csv_in_chunks(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobresults, "CHUNK_ROWS", 2)
    monkeypatch.setattr(jobresults, "READ_CHUNKS", 2)
    api = client(db, now=AS_OF)
    job = finished(api, api.post("/customers/exports?sort=id&min_orders=1", headers=ANALYST))
    assert (job["state"], job["result"]["rows"], job["result"]["chunks"]) == ("succeeded", 5, 3)
    direct = api.get("/customers?sort=id&min_orders=1&format=csv", headers=ANALYST)
    assert api.get(f"/jobs/{job['id']}/result?format=csv", headers=ANALYST).text == direct.text
    rows = api.get(f"/jobs/{job['id']}/result", headers=ANALYST).json()["rows"]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


def test_a_result_that_cannot_be_served_says_why(db: Database) -> None:
    api = client(db, now=AS_OF)
    assert api.get(f"/jobs/{'0' * 32}/result", headers=ANALYST).status_code == 404
    job = finished(api, api.post("/customers/exports", headers=ANALYST))
    db[jobresults.RESULTS].docs.clear()  # expired
    gone = api.get(f"/jobs/{job['id']}/result", headers=ANALYST)
    assert gone.status_code == 410
    assert "expired" in gone.json()["detail"]
    assert api.post("/customers/exports?colour=red", headers=ANALYST).status_code == 422
    assert api.post("/reports/revenue/jobs?period=fortnight", headers=ANALYST).status_code == 422
    assert api.post("/customers/exports", headers=auth("marketer")).status_code == 403


async def test_each_new_result_removes_the_expired_ones() -> None:
    db = Database()

    async def rows() -> Any:
        yield {"n": 1}

    await jobresults.keep(db, "a" * 32, rows(), AS_OF)  # type: ignore[arg-type]
    await jobresults.keep(db, "b" * 32, rows(), AS_OF + jobresults.KEEP / 2)  # type: ignore[arg-type]
    assert len(db[jobresults.RESULTS].docs) == 2
    await jobresults.keep(db, "c" * 32, rows(), AS_OF + jobresults.KEEP * 1.1)  # type: ignore[arg-type]
    assert sorted(key[0] for key in db[jobresults.RESULTS].docs) == ["b", "c"]
    assert [r async for r in jobresults.read(db, "b" * 32, 1)] == [{"n": 1}]  # type: ignore[arg-type]
