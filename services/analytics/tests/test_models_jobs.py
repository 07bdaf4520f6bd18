"""The refit job on an in-memory store: metrics → CLV → churn, determinism, merges, and the schedule."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.analytics import jobs
from services.analytics.features import History
from services.analytics.jobstore import JobStore, Report
from services.analytics.settings import AnalyticsSettings, ModelSettings
from services.analytics.tests.cdnow_sample import CALIBRATION_END, HOLDOUT_END, cdnow_histories
from services.analytics.tests.memorydb import Database

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CDNOW = ModelSettings(calibration_end=CALIBRATION_END, churn_holdout_days=(HOLDOUT_END - CALIBRATION_END).days)


def timeline(histories: Mapping[str, History]) -> list[dict[str, Any]]:
    """One imported order per customer and day, shaped like the projection's timeline entries."""
    entries = []
    for customer, days in histories.items():
        for day, total in days.items():
            at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).isoformat()
            order_id = f"{customer}-{day.isoformat()}"
            data = {"order_id": order_id, "currency": "USD", "total": str(total), "placed_at": at, "paid_at": at}
            entries.append(
                {
                    "_id": order_id,
                    "customer_id": customer,
                    "type": "crm.sales.order_imported.v1",
                    "time": at,
                    "data": data,
                    "erased": False,
                }
            )
    return entries


def store(histories: Mapping[str, History], *, customers: list[dict[str, Any]] = ()) -> Database:  # type: ignore[assignment]
    db = Database()
    for entry in timeline(histories):
        db["customer_timeline"].docs[entry["_id"]] = entry
    for doc in customers:
        db["customer_360"].docs[doc["_id"]] = doc
    return db


def refit(db: Database, models: ModelSettings = CDNOW, as_of: datetime = NOW) -> jobs.RefitResult:
    return asyncio.run(jobs.refit(db, AnalyticsSettings(), as_of, models))  # type: ignore[arg-type]


def small() -> dict[str, History]:
    start = date(2026, 1, 5)
    return {f"c{i}": {start + timedelta(days=i + 20 * k): Decimal(10 + i) for k in range(i % 4 + 1)} for i in range(12)}


@pytest.fixture(scope="module")
def cdnow() -> tuple[Database, jobs.RefitResult]:
    db = store(cdnow_histories())
    return db, refit(db)


def test_cdnow_refit_stores_the_published_model_and_the_holdout_check(cdnow: tuple[Database, jobs.RefitResult]) -> None:
    db, result = cdnow
    model = db["models"].docs[result.clv_model_id]
    assert model["calibration"] == {"start": "1997-01-01", "end": "1997-09-30"}
    assert model["n_customers"] == 2357 == result.customers_scored
    bgnbd, gg = model["bgnbd"], model["gamma_gamma"]
    assert (bgnbd["r"], bgnbd["alpha"], bgnbd["a"], bgnbd["b"]) == pytest.approx(
        (0.243, 4.414, 0.793, 2.426), abs=0.002
    )
    assert bgnbd["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert (gg["p"], gg["q"], gg["gamma"]) == pytest.approx((6.25, 3.74, 15.44), abs=0.01)
    holdout = model["holdout"]
    assert (holdout["start"], holdout["end"], holdout["actual"]) == ("1997-10-01", "1998-06-30", 1882)
    assert holdout["predicted"] == pytest.approx(1653.4, abs=1.0)
    assert sum(row["actual"] for row in holdout["by_frequency"]) == 1882
    assert sum(row["customers"] for row in holdout["by_frequency"]) == 2357


def test_cdnow_churn_model_is_evaluated_against_the_bgnbd_baseline(cdnow: tuple[Database, jobs.RefitResult]) -> None:
    db, result = cdnow
    model = db["models"].docs[result.churn_model_id]
    assert model["training"] == {"cut": "1997-09-30", "holdout_end": "1998-06-30"}
    assert 0.5 < model["baseline_auc"] < 1
    assert 0.5 < model["auc"] < 1
    assert model["shipped"] == (model["auc"] > model["baseline_auc"]) == result.churn_shipped
    assert model["n_train"] + model["n_test"] == 2357


def test_every_customer_gets_clv_churn_and_metrics(cdnow: tuple[Database, jobs.RefitResult]) -> None:
    db, result = cdnow
    metrics = db["customer_metrics"].docs
    assert len(metrics) == 2357
    doc = metrics["00004"]  # 3 purchases, 2 repeat by the calibration end
    assert doc["clv"]["model_id"] == result.clv_model_id
    assert doc["churn"]["model_id"] == result.churn_model_id
    assert 0 < doc["clv"]["p_alive"] <= 1
    assert 0 <= doc["churn"]["risk"] <= 1
    assert doc["clv"]["clv"] > 0
    assert doc["clv"]["currency"] == "USD"
    assert "rfm" in doc  # the metrics step ran first
    assert max(db["customer_metrics"].bulk_sizes) <= jobs.WRITE_CHUNK


def test_same_events_and_settings_give_the_same_model_and_numbers() -> None:
    first_db, second_db = store(small()), store(small())
    first, second = refit(first_db, ModelSettings()), refit(second_db, ModelSettings(), NOW + timedelta(hours=1))
    assert (first.clv_model_id, first.churn_model_id) == (second.clv_model_id, second.churn_model_id)

    def strip(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in doc.items() if k != "fitted_at"}

    assert strip(first_db["models"].docs[first.clv_model_id]) == strip(second_db["models"].docs[first.clv_model_id])
    assert {c: d["clv"] for c, d in first_db["customer_metrics"].docs.items()} == {
        c: d["clv"] for c, d in second_db["customer_metrics"].docs.items()
    }
    other = refit(store(small()), ModelSettings(horizon_days=30))
    assert other.clv_model_id != first.clv_model_id


def test_a_refit_over_unchanged_events_rewrites_no_customer() -> None:
    db = store(small())
    refit(db, ModelSettings())
    before = list(db["customer_metrics"].docs.items())
    scores = {c: {"clv": d["clv"], "churn": d["churn"]} for c, d in before}
    assert asyncio.run(jobs.write_scores(db, scores)) == 0  # type: ignore[arg-type]
    assert list(db["customer_metrics"].docs.items()) == before


def test_a_merged_customer_counts_for_the_survivor_and_loses_its_own_clv() -> None:
    db = store(small())
    refit(db, ModelSettings())
    assert "clv" in db["customer_metrics"].docs["c3"]
    db["customer_360"].docs["c3"] = {"_id": "c3", "merged_into": "c7"}
    result = refit(db, ModelSettings())
    assert "clv" not in db["customer_metrics"].docs["c3"]
    assert "churn" not in db["customer_metrics"].docs["c3"]
    assert result.customers_scored == 11
    model = db["models"].docs[result.clv_model_id]
    assert model["n_customers"] == 11


def test_too_little_data_is_refused_with_a_reason() -> None:
    with pytest.raises(jobs.NotEnoughData, match="at least 3 repeat customers"):
        refit(store({"c1": {date(2026, 1, 1): Decimal(5)}}), ModelSettings())


def test_the_schedule_refits_when_due_and_survives_a_restart() -> None:
    db, now, slept = store(small()), [NOW], []
    settings = AnalyticsSettings(models=ModelSettings(refit_interval_seconds=3600))

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    async def database() -> Database:
        return db

    results = asyncio.run(jobs.run_schedule(database, settings, lambda: now[0], sleep, rounds=2))  # type: ignore[arg-type]
    assert len(results) == 2
    assert all(results)
    assert sum(slept) == 3600  # fitted at once, then waited out the interval
    assert max(slept) == jobs.ACTIVE_CHECK_SECONDS  # in steps, asking for the active generation between them
    now[0] += timedelta(minutes=20)  # a restart 20 minutes later waits the remaining 40 before refitting
    slept.clear()
    asyncio.run(jobs.run_schedule(database, settings, lambda: now[0], sleep, rounds=1))  # type: ignore[arg-type]
    assert sum(slept) == 2400


def test_the_schedule_skips_a_round_without_data_and_keeps_running() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def empty() -> Database:
        return Database()

    results = asyncio.run(jobs.run_schedule(empty, AnalyticsSettings(), lambda: NOW, sleep, rounds=1))  # type: ignore[arg-type]
    assert results == [None]
    assert slept == [300]  # soon again: a fresh platform's orders may still be arriving


def test_with_a_job_store_each_scheduled_refit_is_a_job_and_waits_for_a_running_one() -> None:
    db = store(small())
    jobs_db = Database()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def database() -> Database:
        return db

    async def scenario() -> list[jobs.RefitResult | None]:
        job_store = JobStore(jobs_db, clock=lambda: NOW)  # type: ignore[arg-type]
        release = asyncio.Event()

        async def analyst(report: Report) -> dict[str, object]:
            await release.wait()
            return {}

        def one_round() -> Awaitable[list[jobs.RefitResult | None]]:
            settings = AnalyticsSettings()
            return jobs.run_schedule(database, settings, lambda: NOW, sleep, rounds=1, store=job_store)  # type: ignore[arg-type]

        running = await job_store.start("refit", analyst)
        first = await one_round()
        release.set()
        await job_store.wait(running.id)
        return first + await one_round()

    skipped, fitted = asyncio.run(scenario())
    assert skipped is None, "an analyst's refit was running: the schedule waits for its next round"
    assert isinstance(fitted, jobs.RefitResult)
    scheduled = [d for d in jobs_db["jobs"].docs.values() if d["started_by"] == "analytics-jobs schedule"]
    assert [(d["state"], d["result"]["clv_model_id"]) for d in scheduled] == [("succeeded", fitted.clv_model_id)]
