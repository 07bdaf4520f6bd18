"""Report snapshots are served only while exact: same watermarks, same rules, same UTC day, nothing come due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.analytics import jobs, metrics, watermarks
from services.analytics.reports import customers, scores, snapshots
from services.analytics.reports.catalog import REPORTS
from services.analytics.reports.source import Window
from services.analytics.settings import AnalyticsSettings
from services.analytics.tests.apptest import auth, client
from services.analytics.tests.memorydb import Database
from services.analytics.tests.timeline_fixtures import imported, store, uid

ANALYST = auth("analyst")
NOON = datetime(2026, 6, 10, 12, tzinfo=UTC)


def window(until: datetime = NOON, **rules: Any) -> Window:
    return Window(period="month", since=None, until=until, currency="USD", **rules)


async def revenue_at(db: Database, until: datetime = NOON, **rules: Any) -> snapshots.Served:
    return await snapshots.served(db, "revenue", window(until, **rules), ("projected",), customers.revenue)  # type: ignore[arg-type]


def timeline_reads(db: Database) -> int:
    return len(db["customer_timeline"].filters)


async def test_a_report_is_served_from_its_snapshot_until_the_projector_writes_again() -> None:
    db = store([imported("li", "2026-06-01", "10.00")])
    first = await revenue_at(db)
    reads = timeline_reads(db)
    again = await revenue_at(db, NOON + timedelta(hours=1))
    assert again.report.rows == first.report.rows
    assert again.computed_at == NOON
    assert timeline_reads(db) == reads  # one read by `_id` of the snapshot, nothing else

    db["customer_timeline"].docs.update({e["_id"]: e for e in [imported("li", "2026-06-02", "5.00")]})
    await watermarks.advance(db, "projected")  # type: ignore[arg-type]
    fresh = await revenue_at(db, NOON + timedelta(hours=2))
    assert fresh.computed_at == NOON + timedelta(hours=2)
    assert fresh.report.rows[0]["revenue"] == "15.00"


async def test_a_metrics_write_leaves_snapshots_of_the_timeline_alone() -> None:
    db = store([imported("li", "2026-06-01", "10.00")])
    await revenue_at(db)
    await watermarks.advance(db, "metrics")  # type: ignore[arg-type]
    assert (await revenue_at(db, NOON + timedelta(minutes=5))).computed_at == NOON


async def test_a_new_utc_day_or_other_rules_compute_the_report_again() -> None:
    db = store([imported("li", "2026-06-01", "10.00")])
    await revenue_at(db)
    tomorrow = datetime(2026, 6, 11, tzinfo=UTC)
    assert (await revenue_at(db, tomorrow)).computed_at == tomorrow
    assert (await revenue_at(db, tomorrow + timedelta(hours=1), churned_days=90)).computed_at > tomorrow


async def test_a_fact_dated_after_the_snapshot_is_counted_once_its_date_has_come() -> None:
    """An order projected at noon but placed at 15:00 (a clock ahead, a scheduled import) is not yet revenue."""
    db = store([imported("li", "2026-06-01", "10.00")])
    later = imported("wang", "2026-06-10", "7.00") | {"data": None}
    later["data"] = imported("wang", "2026-06-10", "7.00")["data"] | {
        "placed_at": "2026-06-10T15:00:00Z", "paid_at": "2026-06-10T15:00:00Z"
    }  # fmt: skip
    db["customer_timeline"].docs[later["_id"]] = later
    first = await revenue_at(db)
    assert first.report.rows[0]["revenue"] == "10.00"
    assert (await revenue_at(db, NOON + timedelta(hours=2))).computed_at == NOON
    due = await revenue_at(db, NOON + timedelta(hours=3, seconds=1))
    assert due.computed_at == NOON + timedelta(hours=3, seconds=1)
    assert due.report.rows[0]["revenue"] == "17.00"


async def test_the_projection_and_the_jobs_advance_the_watermarks() -> None:
    db = store([imported("li", "2026-06-01", "10.00")])
    await metrics.recompute_metrics(db, AnalyticsSettings(), NOON)  # type: ignore[arg-type]
    assert db[watermarks.SNAPSHOTS].docs[watermarks.WATERMARK]["metrics"] == 1
    await jobs.write_scores(db, {uid("li"): {"clv": {"clv": 12.5}, "churn": {"risk": 0.5}}})  # type: ignore[arg-type]
    assert db[watermarks.SNAPSHOTS].docs[watermarks.WATERMARK]["metrics"] == 2
    await jobs.write_scores(db, {uid("li"): {"clv": {"clv": 12.5}, "churn": {"risk": 0.5}}})  # type: ignore[arg-type]
    assert db[watermarks.SNAPSHOTS].docs[watermarks.WATERMARK]["metrics"] == 2  # nothing changed, nothing written


def test_every_report_reads_a_watermarked_source() -> None:
    assert all(sources and set(sources) <= {"projected", "metrics"} for _, sources, _ in REPORTS.values())


async def test_the_api_serves_the_default_window_from_the_snapshot_and_an_explicit_one_never() -> None:
    db = store([imported("li", "2026-06-01", "10.00")])
    api = client(db)
    first = api.get("/reports/revenue", headers=ANALYST).json()
    second = api.get("/reports/revenue", headers=ANALYST).json()
    assert second["computed_at"] == first["computed_at"]
    assert second["rows"] == first["rows"]
    assert second["until"] >= first["until"]
    explicit = api.get("/reports/revenue", params={"until": "2026-07-01T00:00:00Z"}, headers=ANALYST).json()
    assert explicit["computed_at"] == explicit["until"] == "2026-07-01T00:00:00+00:00"
    assert set(db[watermarks.SNAPSHOTS].docs) == {"revenue|month"}
    csv = api.get("/reports/revenue?format=csv", headers=ANALYST)
    assert csv.status_code == 200
    assert "10.00" in csv.text


def scored(db: Database, customer: str, risk: float | None, value: float | None, **fields: Any) -> None:
    doc: dict[str, Any] = {"_id": uid(customer), "merged_into": None, "order_count": 1} | fields
    if risk is not None:
        doc["churn"] = {"risk": risk, "model_id": "m"}
    if value is not None:
        doc["clv"] = {"clv": value}
    db["customer_metrics"].docs[doc["_id"]] = doc


async def test_clv_bands_count_every_scored_customer() -> None:
    db = Database()
    for n, value in enumerate([0.0, 3.5, 12.0, 12.0, 260.0, 15_000.0]):
        scored(db, f"c{n}", 0.1, value)
    scored(db, "merged", 0.1, 99.0, merged_into=uid("c0"))
    scored(db, "unscored", None, None)
    report = await scores.clv(db, window())  # type: ignore[arg-type]
    by_band = {r["band"]: (r["customers"], r["clv"]) for r in report.rows}
    assert by_band["0-10"] == (2, "3.50")
    assert by_band["10-25"] == (2, "24.00")
    assert by_band["250-500"] == (1, "260.00")
    assert by_band["10,000+"] == (1, "15000.00")
    assert sum(r["customers"] for r in report.rows) == 6
    assert report.summary["median"] == 12.0
    assert report.summary["p90"] == 15_000.0
    assert report.summary["total"] == "15287.50"


async def test_the_churn_watch_lists_the_riskiest_first_then_the_most_valuable() -> None:
    db = Database()
    scored(db, "low", 0.1, 500.0)
    scored(db, "high-cheap", 0.9, 5.0, lifecycle_stage="dormant")
    scored(db, "high-dear", 0.9, 50.0, value_tier="gold")
    scored(db, "gone", 0.99, 1.0, merged_into=uid("low"))
    for n in range(30):
        scored(db, f"filler{n}", 0.5, float(n))
    report = await scores.churn_watch(db, window())  # type: ignore[arg-type]
    ids = [r["customer_id"] for r in report.rows]
    assert ids[:2] == [uid("high-dear"), uid("high-cheap")]
    assert len(ids) == scores.WATCH
    assert uid("gone") not in ids
    assert uid("low") not in ids
    assert report.rows[0] | {"customer_id": None} == {
        "customer_id": None, "churn_risk": 0.9, "clv": 50.0, "lifecycle_stage": None, "value_tier": "gold",
        "orders": 1, "last_purchase_at": None,
    }  # fmt: skip
