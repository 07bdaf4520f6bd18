"""Every report on small hand-computed fixtures, through the API (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.analytics import metrics
from services.analytics.settings import AnalyticsSettings, MetricsSettings
from services.analytics.tests.apptest import auth, client
from services.analytics.tests.test_metrics import AS_OF, POPULATION
from services.analytics.tests.timeline_fixtures import at, business, entry, imported, store, uid

ANALYST = auth("analyst")
K1, K2 = uid("k1"), uid("k2")


def opp(deal: str, kind: str, day: str, **data: Any) -> dict[str, Any]:
    return entry("chen", f"sales.opportunity_{kind}", at(day), opportunity_id=uid(deal), **data)


def opened(name: str, day: str, stage: str, amount: str, p: str, close: str) -> dict[str, Any]:
    return opp(name, "opened", day, name="deal", amount=amount, currency="USD", stage=stage, probability=p,
               expected_close_date=close, owner="rep@example.com")  # fmt: skip


PIPELINE = [
    opened("o1", "2026-05-01", "proposal", "1000", "0.5", "2026-07-15"),
    opened("o2", "2026-05-01", "qualify", "200", "0.2", "2026-08-01"),
    opp("o2", "stage_changed", "2026-05-02", from_stage="qualify", to_stage="proposal", probability="0.6",
        changed_at=at("2026-05-02")),
    opened("o3", "2026-01-01", "proposal", "700", "0.5", "2026-02-01"),
    opp("o3", "won", "2026-01-31", amount="800", currency="USD", won_at=at("2026-01-31")),
    opened("o4", "2026-01-01", "proposal", "700", "0.5", "2026-02-01"),
    opp("o4", "lost", "2026-03-02", reason="price", lost_at=at("2026-03-02")),
    opened("o5", "2026-01-01", "proposal", "500", "0.5", "2026-07-20"),
    opp("o5", "lost", "2026-03-02", reason="price", lost_at=at("2026-03-02")),
    opp("o5", "reopened", "2026-04-02", stage="qualify", probability="0.1"),
]  # fmt: skip


def sent(customer: str, campaign: str, day: str) -> dict[str, Any]:
    return entry(customer, "marketing.message_sent", at(day), campaign_id=campaign, message_id=uid(customer + day),
                 channel="email", variant="A", sent_at=at(day))  # fmt: skip


MARKETING = [
    business("marketing.campaign_created", at("2026-01-01"), campaign_id=K1, name="春季促销", channel="email",
             segment_id=uid("s"), variants=["A"]),
    business("marketing.campaign_created", at("2026-01-01"), campaign_id=K2, name="SMS", channel="sms",
             segment_id=uid("s"), variants=["A"]),
    business("marketing.campaign_spend_recorded", at("2026-01-02"), campaign_id=K1, spend_id=uid("sp1"),
             channel="email", amount="300", currency="USD", spent_on=at("2026-01-02")),
    business("marketing.campaign_spend_recorded", at("2026-01-02"), campaign_id=K2, spend_id=uid("sp2"),
             channel="sms", amount="100", currency="USD", spent_on=at("2026-01-02")),
    sent("ana", K1, "2026-06-01"),
    sent("ana", K2, "2026-06-05"),
    sent("bo", K1, "2026-05-01"),
    sent("chen", K1, "2026-02-10"),
    entry("ana", "marketing.email_opened", at("2026-06-02"), campaign_id=K1, message_id=uid("m"),
          opened_at=at("2026-06-02")),
    entry("chen", "marketing.link_clicked", at("2026-02-11"), campaign_id=K1, message_id=uid("m"),
          url="https://example.com", clicked_at=at("2026-02-11")),
]  # fmt: skip


def ticket(kind: str, name: str, time: str, **data: Any) -> dict[str, Any]:
    return entry("bo", f"support.{kind}", time, ticket_id=uid(name), **data)


SUPPORT = [
    ticket("ticket_opened", "t1", "2026-06-01T00:00:00Z", channel="email", subject="s", description="d",
           category="c", priority="P2", first_response_minutes=60, resolution_minutes=600, opened_by="x",
           opened_at="2026-06-01T00:00:00Z"),
    ticket("ticket_replied", "t1", "2026-06-01T02:00:00Z", reply_id=uid("r1"), author="a", body="b",
           first_response=True, replied_at="2026-06-01T02:00:00Z"),
    ticket("ticket_status_changed", "t1", "2026-06-02T00:00:00Z", from_status="open", to_status="resolved",
           changed_by="a", changed_at="2026-06-02T00:00:00Z"),
    ticket("survey_answered", "t1", "2026-06-02T01:00:00Z", csat=5, nps=10, answered_at="2026-06-02T01:00:00Z"),
    ticket("ticket_opened", "t2", "2026-06-03T00:00:00Z", channel="email", subject="s", description="d",
           category="c", priority="P1", first_response_minutes=60, resolution_minutes=600, opened_by="x",
           opened_at="2026-06-03T00:00:00Z"),
    ticket("ticket_replied", "t2", "2026-06-03T06:00:00Z", reply_id=uid("r2"), author="a", body="b",
           first_response=True, replied_at="2026-06-03T06:00:00Z"),
    ticket("ticket_replied", "t2", "2026-06-03T07:00:00Z", reply_id=uid("r3"), author="a", body="b",
           first_response=False, replied_at="2026-06-03T07:00:00Z"),
    ticket("sla_breached", "t2", "2026-06-03T01:00:00Z", target="first_response", target_minutes=60,
           elapsed_seconds=3600.0, breached_at="2026-06-03T01:00:00Z"),
    ticket("ticket_status_changed", "t2", "2026-06-04T00:00:00Z", from_status="open", to_status="closed",
           changed_by="a", changed_at="2026-06-04T00:00:00Z"),
    ticket("survey_answered", "t2", "2026-06-04T01:00:00Z", csat=2, nps=3, answered_at="2026-06-04T01:00:00Z"),
    ticket("ticket_opened", "t3", "2026-07-01T00:00:00Z", channel="web", subject="s", description="d",
           category="c", priority="P3", first_response_minutes=60, resolution_minutes=600, opened_by="x",
           opened_at="2026-07-01T00:00:00Z"),
]  # fmt: skip


def engagement(day: str, likes: int, comments: int, shares: int) -> dict[str, Any]:
    return business("social.post_engagement_updated", at(day), post_id=uid("p1"), account_id=uid("acc"),
                    likes=likes, comments=comments, shares=shares, measured_at=at(day))  # fmt: skip


def interaction(day: str, sentiment: str) -> dict[str, Any]:
    return business("social.interaction_received", at(day), interaction_id=uid(day + sentiment),
                    account_id=uid("acc"), platform="weibo", kind="comment", sentiment=sentiment,
                    occurred_at=at(day))  # fmt: skip


SOCIAL = [
    business("social.post_published", at("2026-06-01"), post_id=uid("p1"), account_id=uid("acc"),
             platform_post_id="w1", published_at=at("2026-06-01"), attempts=1),
    engagement("2026-06-02", 10, 2, 1),
    engagement("2026-06-20", 15, 2, 1),
    engagement("2026-06-20", 15, 2, 1),  # a redelivered measurement changes nothing
    engagement("2026-07-03", 20, 5, 2),
    interaction("2026-06-05", "positive"),
    interaction("2026-06-06", "negative"),
    interaction("2026-07-05", "positive"),
]  # fmt: skip


@pytest.fixture
async def api() -> TestClient:
    db = store([*POPULATION, *PIPELINE, *MARKETING, *SUPPORT, *SOCIAL])
    await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF)  # type: ignore[arg-type]
    return client(db)


def report(api: TestClient, name: str, **params: str) -> dict[str, Any]:
    r = api.get(f"/reports/{name}", params={"until": "2026-07-01T00:00:00Z"} | params, headers=ANALYST)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_revenue_per_month_counts_orders_payments_refunds_and_cancellations(api: TestClient) -> None:
    rows = {r["period"]: r for r in report(api, "revenue")["rows"]}
    assert list(rows) == ["2025-01", "2026-02", "2026-03", "2026-05", "2026-06"]
    assert rows["2025-01"] == {"period": "2025-01", "currency": "USD", "orders": 2, "cancelled": 0,
                                    "revenue": "1050.00", "refunds": "0.00", "net_revenue": "1050.00"}  # fmt: skip
    assert (rows["2026-06"]["orders"], rows["2026-06"]["cancelled"]) == (4, 1)
    assert (rows["2026-06"]["revenue"], rows["2026-06"]["refunds"], rows["2026-06"]["net_revenue"]) == (
        "300.00", "50.00", "250.00"
    )  # fmt: skip


def test_cohort_retention_is_the_share_buying_again_k_periods_later(api: TestClient) -> None:
    rows = report(api, "cohorts")["rows"]
    first = {r["offset"]: r for r in rows if r["cohort"] == "2025-01"}
    assert (first[0]["size"], first[0]["customers"], first[0]["retention"]) == (2, 2, 1.0)
    assert (first[17]["customers"], first[17]["retention"]) == (1, 0.5)  # bo again in 2026-06
    assert first[16]["customers"] == 0
    march = {r["offset"]: r["customers"] for r in rows if r["cohort"] == "2026-03"}
    assert march == {0: 1, 1: 0, 2: 1, 3: 1}  # chen: March, May, June


def test_churn_rate_counts_customers_crossing_the_inactivity_limit(api: TestClient) -> None:
    rows = report(api, "churn-rate", period="year", until="2027-01-01T00:00:00Z")["rows"]
    assert rows == [
        {"period": "2025", "customers_at_start": 0, "churned": 0, "churn_rate": None},
        {"period": "2026", "customers_at_start": 2, "churned": 2, "churn_rate": 1.0},
    ]


def test_lifecycle_distribution(api: TestClient) -> None:
    body = report(api, "lifecycle")
    assert body["summary"]["stages"] == {"new": 1, "active": 1, "returning": 1, "dormant": 1, "churned": 1}
    assert body["summary"]["tiers"] == {"high_value": 1, "potential": 1, "regular": 2, "lost": 1}
    assert {"lifecycle_stage": "dormant", "value_tier": "high_value", "customers": 1} in body["rows"]


def test_kpis(api: TestClient) -> None:
    kpis = report(api, "kpis")["summary"]
    assert (kpis["customers"], kpis["purchasers"], kpis["orders"]) == (5, 5, 8)
    assert (kpis["revenue"], kpis["average_order_value"], kpis["repeat_purchase_rate"]) == ("3500.00", "437.50", 0.4)
    assert (kpis["active_customers"], kpis["churned_customers"]) == (3, 1)


def test_pipeline_by_stage_win_rate_cycle_and_forecast(api: TestClient) -> None:
    body = report(api, "pipeline")
    assert body["rows"] == [
        {"stage": "proposal", "currency": "USD", "deals": 2, "amount": "1200.00", "weighted_amount": "620.00"},
        {"stage": "qualify", "currency": "USD", "deals": 1, "amount": "500.00", "weighted_amount": "50.00"},
    ]
    s = body["summary"]
    assert (s["won"], s["lost"], s["win_rate"], s["sales_cycle_days_mean"]) == (1, 1, 0.5, 30.0)
    assert s["forecast"] == [
        {"period": "2026-07", "currency": "USD", "weighted_amount": "550.00"},
        {"period": "2026-08", "currency": "USD", "weighted_amount": "120.00"},
    ]


def test_acquisition_cac_and_roi_first_and_last_touch(api: TestClient) -> None:
    rows = report(api, "acquisition", since="2026-01-01T00:00:00Z")["rows"]
    by = {(r["group"], r["key"]): r for r in rows}
    k1, k2, organic = by[("campaign", K1)], by[("campaign", K2)], by[("channel", "organic")]
    assert (k1["name"], k1["spend"]) == ("春季促销", "300.00")
    assert (k1["first_touch_customers"], k1["first_touch_cac"]) == (2, "150.00")
    assert (k1["first_touch_revenue"], k1["first_touch_roi"]) == ("400.00", 0.3333)
    assert (k1["last_touch_customers"], k1["last_touch_cac"], k1["last_touch_roi"]) == (1, "300.00", 0.0)
    assert (k2["first_touch_customers"], k2["first_touch_cac"], k2["first_touch_roi"]) == (0, None, -1.0)
    assert (k2["last_touch_customers"], k2["last_touch_cac"], k2["last_touch_revenue"]) == (1, "100.00", "100.00")
    assert (organic["first_touch_customers"], organic["spend"], organic["first_touch_cac"]) == (1, "0.00", None)
    assert by[("channel", "email")]["first_touch_customers"] == 2


def test_campaign_funnel(api: TestClient) -> None:
    rows = {r["campaign_id"]: r for r in report(api, "campaigns")["rows"]}
    k1 = rows[K1]
    assert [k1[k] for k in ("sent", "opened", "clicked", "converted")] == [3, 1, 1, 2]
    assert [k1[k] for k in ("opened_rate", "clicked_rate", "converted_rate")] == [0.3333, 0.3333, 0.6667]
    assert (rows[K2]["sent"], rows[K2]["converted"], rows[K2]["channel"]) == (1, 1, "sms")


def test_support_times_breach_rate_csat_and_nps(api: TestClient) -> None:
    body = report(api, "support", until="2026-08-01T00:00:00Z")
    june, july = body["rows"]
    assert june == {"period": "2026-06", "tickets": 2, "first_response_hours_mean": 4.0,
                    "first_response_hours_median": 4.0, "resolution_hours_mean": 24.0,
                    "resolution_hours_median": 24.0, "sla_breach_rate": 0.5, "csat": 3.5, "surveys": 2,
                    "nps": 0.0}  # fmt: skip
    assert (july["tickets"], july["first_response_hours_mean"], july["sla_breach_rate"]) == (1, None, 0.0)
    assert body["summary"] == {"tickets": 3, "csat": 3.5, "nps": 0.0}


def test_social_engagement_growth_and_sentiment(api: TestClient) -> None:
    june, july = report(api, "social", until="2026-08-01T00:00:00Z")["rows"]
    assert june == {"period": "2026-06", "posts_published": 1, "likes": 15, "comments": 2, "shares": 1,
                    "engagement": 18, "interactions": 2, "positive": 1, "neutral": 0, "negative": 1,
                    "net_sentiment": 0.0}  # fmt: skip
    assert (july["likes"], july["comments"], july["shares"], july["engagement"], july["net_sentiment"]) == (
        5, 3, 1, 9, 1.0
    )  # fmt: skip


def test_every_report_streams_as_csv(api: TestClient) -> None:
    for name in ("kpis", "revenue", "cohorts", "lifecycle", "churn-rate", "acquisition", "pipeline", "campaigns",
                 "support", "social"):  # fmt: skip
        r = api.get(f"/reports/{name}?format=csv&until=2026-07-01T00:00:00Z", headers=ANALYST)
        assert r.status_code == 200, name
        assert r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(api.get("/reports/revenue?format=csv&until=2026-07-01T00:00:00Z",
                                                   headers=ANALYST).content.decode("utf-8-sig"))))  # fmt: skip
    assert rows[-1] == {"period": "2026-06", "orders": "4", "cancelled": "1", "revenue": "300.00",
                        "refunds": "50.00", "net_revenue": "250.00", "currency": "USD"}  # fmt: skip


@pytest.mark.parametrize(
    ("query", "named"), [("period=fortnight", "period"), ("since=soon", "since"), ("format=xml", "format"),
                         ("colour=red", "colour"), ("until=2026-01-01T00:00:00", "until"),
                         ("until=0.5", "until"), ("since=1764000000", "since"),
                         # found by schemathesis: a window at year 1 ran a report off the calendar (500)
                         ("since=0002-01-01T00:00:00Z&until=0001-01-01T00:00:01Z", "1900"),
                         ("since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "since must be before until"),
                         ("since=2999-01-01T00:00:00Z", "since is not before now")]
)  # fmt: skip
def test_a_bad_report_parameter_is_a_422_naming_it(api: TestClient, query: str, named: str) -> None:
    r = api.get(f"/reports/revenue?{query}", headers=ANALYST)
    assert r.status_code == 422
    assert named in r.text


def test_reports_are_for_analysts(api: TestClient) -> None:
    assert api.get("/reports/kpis", headers=auth("sales_rep")).status_code == 403


def test_revenue_in_another_currency_has_its_own_row_never_converted() -> None:
    """Before, a 117,659.95 CNY order showed as `orders 1, revenue 0.00 USD` and no CNY row."""
    cny = uid("cny-order")
    db = store([
        imported("li", "2026-06-03", "100.00"),
        imported("wang", "2026-06-05", "117659.95", currency="CNY"),
        entry("wang", "sales.order_placed", at("2026-06-07"), order_id=cny, source="direct", currency="CNY",
              total="88.00", placed_at=at("2026-06-07")),
        entry("wang", "sales.order_cancelled", at("2026-06-08"), order_id=cny, reason="changed mind",
              cancelled_at=at("2026-06-08")),
    ])  # fmt: skip
    body = client(db).get("/reports/revenue", params={"until": "2026-07-01T00:00:00Z"}, headers=ANALYST).json()
    assert [(r["period"], r["currency"], r["orders"], r["cancelled"], r["revenue"]) for r in body["rows"]] == [
        ("2026-06", "USD", 1, 0, "100.00"),
        ("2026-06", "CNY", 2, 1, "117659.95"),
    ]
    assert body["summary"] == {"currencies": ["USD", "CNY"], "reporting_currency": "USD"}


def test_churn_rate_counts_only_customers_the_period_began_with() -> None:
    """A customer who first bought and churned within one quarter is not "churned out of 0"."""
    db = store([imported("li", "2026-01-05", "10.00"), imported("wang", "2025-12-20", "10.00")])
    api = client(db, MetricsSettings(churned_days=30))
    params = {"period": "quarter", "until": "2026-04-01T00:00:00Z", "since": "2026-01-01T00:00:00Z"}
    [q1] = api.get("/reports/churn-rate", params=params, headers=ANALYST).json()["rows"]
    assert q1 == {"period": "2026-Q1", "customers_at_start": 1, "churned": 1, "churn_rate": 1.0}
