"""RFM, lifecycle stage and value tier on a small hand-computed population.

as_of 2026-06-30, default rules (new 30, active 90, returning gap 180, churned 365 days):
- ana:   one order 2026-06-10 ($100)                  → 20 days, new, potential (new)
- bo:    2025-01-01 and 2026-06-01 ($50 + $50)         → gap 516 > 180, returning, regular
- chen:  03-01, 05-01 ($100 each), 06-20 ($150 paid, $50 refunded), one cancelled → active, $300, regular
- dan:   2026-02-01 ($2000)                            → 149 days, dormant, high value
- eve:   2025-01-01 ($1000)                            → 545 days, churned, lost
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.analytics import metrics, watermarks
from services.analytics.settings import AnalyticsSettings, MetricsSettings
from services.analytics.tests.timeline_fixtures import cancelled, imported, paid, placed, refunded, store, uid

AS_OF = datetime(2026, 6, 30, tzinfo=UTC)

POPULATION = [
    imported("ana", "2026-06-10", "100"),
    imported("bo", "2025-01-01", "50"),
    imported("bo", "2026-06-01", "50"),
    imported("chen", "2026-03-01", "100"),
    imported("chen", "2026-05-01", "100"),
    placed("chen", "2026-06-20", "150", order="chen-3"),
    paid("chen", "2026-06-21", "150", order="chen-3"),
    refunded("chen", "2026-06-22", "50", order="chen-3"),
    placed("chen", "2026-06-25", "999", order="chen-4"),
    cancelled("chen", "2026-06-26", order="chen-4"),
    imported("dan", "2026-02-01", "2000"),
    imported("eve", "2025-01-01", "1000"),
    imported("eve", "2026-07-15", "5000"),  # after as_of: not yet happened
]


async def computed(entries: list[dict[str, object]] = POPULATION, **rules: object) -> dict[str, dict[str, object]]:
    db = store(entries, {"ana": {"phones": ["+8613900000000"]}})
    await metrics.recompute_metrics(db, AnalyticsSettings(metrics=MetricsSettings(**rules)), AS_OF)  # type: ignore[arg-type]
    return {name: db["customer_metrics"].docs[uid(name)] for name in ("ana", "bo", "chen", "dan", "eve")}


async def test_lifecycle_stages_follow_the_documented_rules() -> None:
    docs = await computed()
    assert {n: d["lifecycle_stage"] for n, d in docs.items()} == {
        "ana": "new", "bo": "returning", "chen": "active", "dan": "dormant", "eve": "churned"
    }  # fmt: skip


async def test_value_tiers_rank_revenue_and_churned_customers_are_lost() -> None:
    docs = await computed()
    assert {n: d["value_tier"] for n, d in docs.items()} == {
        "ana": "potential", "bo": "regular", "chen": "regular", "dan": "high_value", "eve": "lost"
    }  # fmt: skip


async def test_revenue_counts_payments_minus_refunds_and_skips_cancelled_orders() -> None:
    chen = (await computed())["chen"]
    assert chen["revenue"] == "300"
    assert chen["revenue_micros"] == 300_000_000
    assert chen["order_count"] == 3
    assert chen["last_purchase_at"] == "2026-06-20T00:00:00+00:00"
    assert chen["currency"] == "USD"


async def test_rfm_quintiles_share_scores_on_ties() -> None:
    docs = await computed()
    assert {n: d["rfm"]["score"] for n, d in docs.items()} == {  # type: ignore[index]
        "ana": "411", "bo": "341", "chen": "553", "dan": "215", "eve": "114"
    }  # fmt: skip
    assert docs["bo"]["rfm"] == {
        "frequency": 2, "monetary": "100", "r": 3, "f": 4, "m": 1, "score": "341"
    }  # fmt: skip


async def test_events_after_as_of_do_not_count() -> None:
    eve = (await computed())["eve"]
    assert eve["order_count"] == 1
    assert eve["revenue"] == "1000"


async def test_rules_are_configurable() -> None:
    docs = await computed(active_days=200, churned_days=600, new_days=10)
    assert docs["dan"]["lifecycle_stage"] == "active"
    assert docs["eve"]["lifecycle_stage"] == "dormant"
    assert docs["ana"]["lifecycle_stage"] == "active"


async def test_other_currencies_count_as_purchases_but_not_revenue() -> None:
    docs = await computed([*POPULATION, imported("ana", "2026-06-11", "70", currency="EUR")])
    assert docs["ana"]["order_count"] == 2
    assert docs["ana"]["revenue"] == "100"


async def test_country_comes_from_the_first_phone() -> None:
    docs = await computed()
    assert docs["ana"]["country"] == "CN"
    assert docs["bo"]["country"] is None


async def test_the_postal_address_country_wins_over_the_phone_country() -> None:
    db = store(
        POPULATION,
        {
            "ana": {"phones": ["+8613900000000"], "address": {"lines": ["1 Infinite Loop"], "country": "US"}},
            "bo": {"phones": ["+8613900000001"], "address": {"lines": ["上海市黄浦区"], "country": None}},
        },
    )
    await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF)  # type: ignore[arg-type]
    assert db["customer_metrics"].docs[uid("ana")]["country"] == "US"
    assert db["customer_metrics"].docs[uid("bo")]["country"] == "CN", "no country in the address: the phone's"


async def test_merged_customers_orders_count_for_the_survivor() -> None:
    db = store([*POPULATION, imported("fay", "2026-06-15", "400")], {"fay": {"merged_into": uid("bo")}})
    await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF)  # type: ignore[arg-type]
    bo, fay = db["customer_metrics"].docs[uid("bo")], db["customer_metrics"].docs[uid("fay")]
    assert (bo["order_count"], bo["revenue"]) == (3, "500")
    assert (fay["order_count"], fay["lifecycle_stage"], fay["merged_into"]) == (0, None, uid("bo"))


async def test_recompute_is_idempotent_and_keeps_the_models_fields() -> None:
    db = store(POPULATION)
    settings = AnalyticsSettings()
    written = await metrics.recompute_metrics(db, settings, AS_OF)  # type: ignore[arg-type]
    await db["customer_metrics"].update_one({"_id": uid("dan")}, {"$set": {"clv": {"clv": 12.5}}})
    first = {k: dict(v) for k, v in db["customer_metrics"].docs.items()}
    assert await metrics.recompute_metrics(db, settings, AS_OF) == written == 5  # type: ignore[arg-type]
    assert db["customer_metrics"].docs == first
    assert db["customer_metrics"].docs[uid("dan")]["clv"] == {"clv": 12.5}


async def test_tier_can_rank_by_clv() -> None:
    db = store(POPULATION)
    for name, clv in (("ana", 900.0), ("bo", 1.0), ("chen", 2.0), ("dan", 3.0), ("eve", 4.0)):
        await db["customer_metrics"].update_one({"_id": uid(name)}, {"$set": {"clv": {"clv": clv}}}, upsert=True)
    settings = AnalyticsSettings(metrics=MetricsSettings(tier_basis="clv"))
    await metrics.recompute_metrics(db, settings, AS_OF)  # type: ignore[arg-type]
    assert db["customer_metrics"].docs[uid("ana")]["value_tier"] == "high_value"
    assert db["customer_metrics"].docs[uid("dan")]["value_tier"] == "regular"  # high value by revenue


async def test_as_of_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await metrics.recompute_metrics(store([]), AnalyticsSettings(), datetime(2026, 1, 1))  # type: ignore[arg-type]


def test_quintile_scores_are_hand_computable() -> None:
    values = {c: Decimal(v) for c, v in zip("abcdefghij", range(10), strict=True)}
    assert list(metrics.quintile_scores(values).values()) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert metrics.quintile_scores({"x": Decimal(1), "y": Decimal(1)}) == {"x": 1, "y": 1}
    assert metrics.quintile_scores({"x": Decimal(1), "y": Decimal(9)}, higher_is_better=False) == {"x": 3, "y": 1}


def test_micros_are_exact() -> None:
    assert metrics.micros(Decimal("12.345678")) == 12_345_678
    assert metrics.micros(Decimal("0.1") + Decimal("0.2")) == 300_000


async def test_an_unchanged_recompute_writes_nothing() -> None:
    db = store(POPULATION)
    await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF)  # type: ignore[arg-type]

    async def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing changed, nothing may be written")

    db["customer_metrics"].bulk_write = refuse  # type: ignore[method-assign]
    db["customer_metrics"].insert_many = refuse  # type: ignore[method-assign]
    assert await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF) == 5  # type: ignore[arg-type]


async def test_a_later_recompute_rewrites_only_what_moved_and_records_its_as_of() -> None:
    """No row holds a date that moves by itself, so a run later the same day writes no row at all."""
    db = store(POPULATION)
    await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF)  # type: ignore[arg-type]

    async def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no customer's metrics moved, no row may be written")

    db["customer_metrics"].bulk_write = refuse  # type: ignore[method-assign]
    db["customer_metrics"].insert_many = refuse  # type: ignore[method-assign]
    later = AS_OF + timedelta(hours=5)
    await metrics.recompute_metrics(db, AnalyticsSettings(), later)  # type: ignore[arg-type]
    assert await watermarks.metrics_as_of(db) == later.isoformat()  # type: ignore[arg-type]
    assert not any(
        "days_since_last_purchase" in row or "metrics_as_of" in row for row in db["customer_metrics"].docs.values()
    )
