"""The analyst customer list and marketing's metric filter, over the hand-computed population."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.analytics import metrics
from services.analytics.settings import AnalyticsSettings
from services.analytics.tests.apptest import auth, client
from services.analytics.tests.test_metrics import AS_OF, POPULATION
from services.analytics.tests.timeline_fixtures import store, uid

NAMES = {uid(n): n for n in ("ana", "bo", "chen", "dan", "eve", "gus")}
ANALYST = auth("analyst")


@pytest.fixture
async def api() -> TestClient:
    db = store(POPULATION, {"ana": {"phones": ["+8613900000000"]}, "dan": {"phones": ["+8613800000000"]}, "gus": {}})
    await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF)  # type: ignore[arg-type]
    for name, clv, risk in (("ana", 50.0, 0.1), ("bo", 20.0, 0.5), ("chen", 80.0, 0.2), ("dan", 900.0, 0.7)):
        await db["customer_metrics"].update_one(
            {"_id": uid(name)}, {"$set": {"clv": {"clv": clv}, "churn": {"risk": risk}}}
        )
    return client(db, now=AS_OF)  # recency counted to the day the metrics were computed, as hand-computed


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [NAMES[row["id"]] for row in response.json()["items"]]


def test_default_sort_is_revenue_descending(api: TestClient) -> None:
    assert names(api.get("/customers", headers=ANALYST)) == ["dan", "eve", "chen", "ana", "bo", "gus"]


def test_filters_combine(api: TestClient) -> None:
    r = api.get("/customers?lifecycle_stage=dormant,active&value_tier=high_value", headers=ANALYST)
    assert names(r) == ["dan"]
    assert names(api.get("/customers?country=CN&sort=-clv", headers=ANALYST)) == ["dan", "ana"]
    assert names(api.get("/customers?min_churn_risk=0.3&sort=churn_risk", headers=ANALYST)) == ["bo", "dan"]
    assert names(api.get("/customers?min_clv=50&max_clv=100&sort=clv", headers=ANALYST)) == ["ana", "chen"]
    r = api.get("/customers?last_purchase_after=2026-05-01T00:00:00Z&sort=last_purchase", headers=ANALYST)
    assert names(r) == ["bo", "ana", "chen"]
    r = api.get("/customers?last_purchase_before=2026-03-01T00:00:00%2B00:00&sort=id", headers=ANALYST)
    assert sorted(names(r)) == ["dan", "eve"]


def test_cursor_pages_through_everything_once_in_order(api: TestClient) -> None:
    for sort in ("-clv", "clv", "-revenue", "recency", "-last_purchase", "id", "-id"):
        whole = names(api.get(f"/customers?sort={sort}&limit=500", headers=ANALYST))
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
            page = api.get("/customers", params=params, headers=ANALYST)
            seen += names(page)
            if (cursor := page.json()["next"]) is None:
                break
        assert seen == whole, sort
        assert len(whole) == 6
        # the same walk by the `Link: rel="next"` header every list of the platform gives
        linked, url = [], f"/customers?sort={sort}&limit=4"
        while url:
            page = api.get(url, headers=ANALYST)
            linked += names(page)
            link = page.headers.get("link", "")
            url = link[1 : link.index(">")] if link else ""
            assert (page.headers.get("x-next-cursor") is None) == (page.json()["next"] is None)
        assert linked == whole, sort


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("lifecycle_stage=sleeping", "lifecycle_stage"),
        ("value_tier=vip", "value_tier"),
        ("sort=-shoe_size", "sort"),
        ("min_churn_risk=2", "min_churn_risk"),
        ("country=china", "country"),
        ("last_purchase_before=yesterday", "last_purchase_before"),
        ("last_purchase_before=2026-01-01T00:00:00", "last_purchase_before"),
        ("colour=red", "colour"),
        ("limit=0", "limit"),
        ("cursor=nonsense", "cursor"),
        ("min_revenue=-3.7240035661322856e%2B16", "min_revenue"),  # schemathesis: past a 64-bit micro-unit count
        ("min_orders=99999999999999999999", "min_orders"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(api: TestClient, query: str, named: str) -> None:
    r = api.get(f"/customers?{query}", headers=ANALYST)
    assert r.status_code == 422, r.text
    assert named in r.text


def test_a_cursor_of_another_sort_is_refused(api: TestClient) -> None:
    cursor = api.get("/customers?limit=1&sort=-clv", headers=ANALYST).json()["next"]
    r = api.get("/customers", params={"limit": 1, "sort": "-revenue", "cursor": cursor}, headers=ANALYST)
    assert r.status_code == 422
    assert "cursor" in r.text


def test_csv_streams_every_match_with_flattened_columns(api: TestClient) -> None:
    r = api.get("/customers?format=csv&sort=-revenue&limit=1", headers=ANALYST)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [NAMES[row["id"]] for row in rows] == ["dan", "eve", "chen", "ana", "bo", "gus"]
    assert rows[0]["clv"] == "900.0"
    assert rows[0]["rfm_score"] == "215"
    assert rows[0]["revenue"] == "2000"
    assert rows[5]["lifecycle_stage"] == ""


def test_only_analysts_and_admins_list_customers(api: TestClient) -> None:
    assert api.get("/customers", headers=auth("sales_rep")).status_code == 403
    assert api.get("/customers", headers=auth("admin")).status_code == 200
    assert api.get("/customers").status_code == 401


def segment(api: TestClient, **body: Any) -> Any:
    candidates = [uid(n) for n in ("ana", "bo", "chen", "dan", "eve", "gus")]
    return api.post("/segments/customers", json={"candidates": candidates} | body, headers=auth("integration"))


def test_segment_conditions_answer_for_candidates(api: TestClient) -> None:
    def matching(**body: Any) -> list[str]:
        r = segment(api, **body)
        assert r.status_code == 200, r.text
        return sorted(NAMES[c] for c in r.json()["matching"])

    assert matching(metric="value_tier", op="in", values=["high_value"]) == ["dan"]
    assert matching(metric="lifecycle_stage", op="not_in", values=["churned", "dormant"]) == [
        "ana",
        "bo",
        "chen",
        "gus",
    ]
    assert matching(metric="clv", op="gte", threshold=80) == ["chen", "dan"]
    assert matching(metric="churn_risk", op="lte", threshold=0.2) == ["ana", "chen"]
    assert matching(metric="days_since_last_purchase", op="gte", threshold=100) == ["dan", "eve"]
    assert matching(metric="rfm_segment", op="in", values=["215", "411"]) == ["ana", "dan"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"metric": "value_tier", "op": "in", "values": ["vip"]}, "value_tier"),
        ({"metric": "clv", "op": "in", "values": ["1"]}, "op"),
        ({"metric": "lifecycle_stage", "op": "gte", "threshold": 1}, "op"),
        ({"metric": "clv", "op": "gte"}, "threshold"),
        ({"metric": "shoe_size", "op": "in", "values": ["1"]}, "metric"),
    ],
)
def test_a_bad_segment_condition_is_a_422_naming_it(api: TestClient, body: dict[str, Any], named: str) -> None:
    r = segment(api, **body)
    assert r.status_code == 422, r.text
    assert named in r.text


def test_segments_need_integration_analyst_or_marketer(api: TestClient) -> None:
    body = {"metric": "clv", "op": "gte", "threshold": 1, "candidates": []}
    assert api.post("/segments/customers", json=body, headers=auth("support_agent")).status_code == 403
    assert api.post("/segments/customers", json=body, headers=auth("marketer")).status_code == 200


async def test_recency_is_counted_when_read_and_filters_follow_it() -> None:
    """Ten days after the metrics were computed, every purchaser is ten days further from their last purchase."""
    db = store(POPULATION, {"gus": {}})
    await metrics.recompute_metrics(db, AnalyticsSettings(), AS_OF)  # type: ignore[arg-type]
    api = client(db, now=AS_OF + timedelta(days=10))
    rows = {NAMES[r["id"]]: r for r in api.get("/customers?sort=recency", headers=ANALYST).json()["items"]}
    assert {n: r["recency_days"] for n, r in rows.items()} == {
        "ana": 30, "bo": 39, "chen": 20, "dan": 159, "eve": 555, "gus": None
    }  # fmt: skip
    assert {r["metrics_as_of"] for r in rows.values()} == {AS_OF.isoformat()}
    assert list(rows) == ["chen", "ana", "bo", "dan", "eve", "gus"]  # fewest days first, never-bought last
    assert names(api.get("/customers?min_days_since_last_purchase=39&sort=id", headers=ANALYST)) == sorted(
        ["bo", "dan", "eve"], key=lambda n: uid(n)
    )
    assert names(api.get("/customers?max_days_since_last_purchase=30&sort=recency", headers=ANALYST)) == ["chen", "ana"]
    r = segment(api, metric="days_since_last_purchase", op="lte", threshold=39.5)
    assert sorted(NAMES[c] for c in r.json()["matching"]) == ["ana", "bo", "chen"]
    # Found by schemathesis: a day count past the calendar was an OverflowError (500); it means "ever" / "never".
    every = ["ana", "bo", "chen", "dan", "eve"]
    assert sorted(names(api.get("/customers?max_days_since_last_purchase=91634822", headers=ANALYST))) == every
    assert names(api.get("/customers?min_days_since_last_purchase=91634822", headers=ANALYST)) == []
    r = segment(api, metric="days_since_last_purchase", op="lte", threshold=1e300)
    assert sorted(NAMES[c] for c in r.json()["matching"]) == every
