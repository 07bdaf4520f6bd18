"""Money in every currency, and conversion only with the admins' dated rates (`/fx-rates`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from services.analytics import metrics
from services.analytics.fxrates import Rate, RateTable
from services.analytics.reports.periods import period_first_day, period_last_day
from services.analytics.settings import AnalyticsSettings
from services.analytics.tests.apptest import auth, client
from services.analytics.tests.timeline_fixtures import at, business, imported, store, uid

ANALYST, ADMIN = auth("analyst"), auth("admin")
UNTIL = {"until": "2026-08-01T00:00:00Z"}


@pytest.fixture
async def api() -> TestClient:
    db = store([
        imported("li", "2026-06-03", "100.00"),
        imported("li", "2026-07-03", "50.00"),
        imported("wang", "2026-06-05", "117659.95", currency="CNY"),
        imported("wang", "2026-07-05", "1000.00", currency="CNY"),
        imported("sato", "2026-07-09", "5000", currency="JPY"),
    ])  # fmt: skip
    await metrics.recompute_metrics(db, AnalyticsSettings(), datetime(2026, 8, 1, tzinfo=UTC))  # type: ignore[arg-type]
    return client(db)


def put(api: TestClient, currency: str, day: str, rate: str, headers: dict[str, str] = ADMIN) -> int:
    code: int = api.put(f"/fx-rates/{currency}/{day}", json={"rate": rate}, headers=headers).status_code
    return code


def test_kpis_keep_every_currency_apart(api: TestClient) -> None:
    """Before, the CNY and JPY orders counted as orders with no revenue: AOV fell, and their money was nowhere."""
    summary = api.get("/reports/kpis", params=UNTIL, headers=ANALYST).json()["summary"]
    assert (summary["orders"], summary["revenue"], summary["average_order_value"]) == (2, "150.00", "75.00")
    assert summary["revenue_by_currency"] == {"USD": "150.00", "CNY": "118659.95", "JPY": "5000.00"}
    assert summary["orders_by_currency"] == {"USD": 2, "CNY": 2, "JPY": 1}
    assert summary["average_order_value_by_currency"]["CNY"] == "59329.98"
    rows = api.get("/reports/kpis", params=UNTIL, headers=ANALYST).json()["rows"]
    assert {"kpi": "revenue", "value": "118659.95", "currency": "CNY"} in rows
    assert {"kpi": "revenue", "value": "150.00", "currency": "USD"} in rows


def test_the_customer_list_shows_revenue_in_each_currency(api: TestClient) -> None:
    """`revenue` stays the reporting currency's (what the list sorts and filters by); the rest is beside it."""
    rows = api.get("/customers", headers=ANALYST).json()["items"]
    [wang] = [c for c in rows if "CNY" in c["revenue_by_currency"]]
    assert (wang["revenue"], wang["revenue_by_currency"], wang["orders_by_currency"]) == ("0", {"CNY": "118659.95"},
                                                                                         {"CNY": 2})  # fmt: skip
    text = api.get("/customers", params={"format": "csv"}, headers=ANALYST).content.decode("utf-8-sig")
    assert "CNY 118659.95" in text
    assert "CNY 2" in text


def test_conversion_uses_each_period_closing_rate_and_names_what_has_none(api: TestClient) -> None:
    assert put(api, "CNY", "2026-01-01", "0.14") == 201
    assert put(api, "CNY", "2026-07-15", "0.1378") == 201
    body = api.get("/reports/revenue", params=UNTIL | {"convert": "true"}, headers=ANALYST).json()
    rows = {(r["period"], r["currency"]): r for r in body["rows"]}
    assert rows[("2026-06", "CNY")]["converted_revenue"] == "16472.39"  # 117,659.95 x 0.14 (June's closing rate)
    assert rows[("2026-07", "CNY")]["converted_net_revenue"] == "137.80"  # 1,000 x 0.1378 (in effect on 07-31)
    assert rows[("2026-06", "USD")]["converted_revenue"] == "100.00"
    assert rows[("2026-07", "JPY")]["converted_revenue"] is None  # no JPY rate: kept, not converted
    assert rows[("2026-07", "JPY")]["revenue"] == "5000.00"
    assert body["summary"]["missing_rates"] == [{"currency": "JPY", "day": "2026-07-31"}]
    assert body["summary"]["converted_to"] == "USD"
    plain = api.get("/reports/revenue", params=UNTIL, headers=ANALYST).json()
    assert "converted_revenue" not in plain["rows"][0]
    assert "missing_rates" not in plain["summary"]


def test_kpi_total_converts_at_the_rate_of_until_or_not_at_all(api: TestClient) -> None:
    put(api, "CNY", "2026-07-15", "0.1378")
    summary = api.get("/reports/kpis", params=UNTIL | {"convert": "true"}, headers=ANALYST).json()["summary"]
    assert summary["revenue_converted"] is None  # JPY has no rate: a partial total would mislead
    put(api, "JPY", "2026-01-01", "0.0067")
    summary = api.get("/reports/kpis", params=UNTIL | {"convert": "true"}, headers=ANALYST).json()["summary"]
    assert summary["revenue_converted"] == "16534.84"  # 150 + 118,659.95 x 0.1378 + 5,000 x 0.0067
    assert summary["missing_rates"] == []


def test_admins_keep_the_table_and_analysts_read_it(api: TestClient) -> None:
    assert put(api, "CNY", "2026-01-01", "0.14", headers=ANALYST) == 403
    assert put(api, "CNY", "2026-01-01", "0.14") == 201
    assert put(api, "CNY", "2026-01-01", "0.141") == 200
    listed = api.get("/fx-rates", headers=ANALYST).json()
    assert [(r["currency"], r["valid_from"], r["rate"], r["to"], r["set_by"]) for r in listed] == [
        ("CNY", "2026-01-01", "0.141", "USD", "ana@example.com")
    ]
    assert api.delete("/fx-rates/CNY/2026-01-01", headers=ANALYST).status_code == 403
    assert api.delete("/fx-rates/CNY/2026-01-01", headers=ADMIN).status_code == 204
    assert api.delete("/fx-rates/CNY/2026-01-01", headers=ADMIN).status_code == 404
    assert api.get("/fx-rates", headers=ANALYST).json() == []


@pytest.mark.parametrize(
    ("currency", "day", "rate"),
    [("XXX", "2026-01-01", "1"), ("USD", "2026-01-01", "1"), ("CNY", "2026-01-01", "0"), ("CNY", "2026-01-01", "-1"),
     ("CNY", "1066-01-01", "0.1"), ("CNY", "2026-01-01", "0.12345678901"), ("cny", "2026-01-01", "0.1"),
     ("CNY", "2026-02-30", "0.1")],
)  # fmt: skip
def test_a_bad_rate_is_a_422_and_changes_nothing(api: TestClient, currency: str, day: str, rate: str) -> None:
    assert put(api, currency, day, rate) == 422
    assert api.get("/fx-rates", headers=ANALYST).json() == []


def test_a_rate_holds_until_the_next_one() -> None:
    def rate(day: str, value: str, to: str = "USD") -> Rate:
        return Rate(currency="CNY", to=to, valid_from=day, rate=value, set_by="a", set_at="2026-01-01T00:00:00Z")

    table = RateTable.of("USD", [rate("2026-03-01", "0.2"), rate("2026-01-01", "0.1"), rate("2026-01-01", "9", "EUR")])
    day = period_first_day
    assert table.at("CNY", day("2025-12-31", "day")) is None
    assert table.at("CNY", day("2026-01-01", "day")) == Decimal("0.1")
    assert table.at("CNY", day("2026-02-28", "day")) == Decimal("0.1")
    assert table.at("CNY", day("2026-03-01", "day")) == Decimal("0.2")
    assert table.at("USD", day("1999-01-01", "day")) == 1
    assert table.at("JPY", day("2026-03-01", "day")) is None


@pytest.mark.parametrize(
    ("label", "period", "first", "last"),
    [("2026-02", "month", "2026-02-01", "2026-02-28"), ("2026-W01", "week", "2025-12-29", "2026-01-04"),
     ("2026-Q4", "quarter", "2026-10-01", "2026-12-31"), ("2024", "year", "2024-01-01", "2024-12-31"),
     ("2024-02-29", "day", "2024-02-29", "2024-02-29")],
)  # fmt: skip
def test_period_labels_map_back_to_their_days(label: str, period: str, first: str, last: str) -> None:
    assert period_first_day(label, period).isoformat() == first  # type: ignore[arg-type]
    assert period_last_day(label, period).isoformat() == last  # type: ignore[arg-type]


async def test_acquisition_names_spend_and_revenue_in_other_currencies() -> None:
    """CAC and ROI are in the reporting currency; yuan spent or earned was silently left out before."""
    campaign = uid("k-cny")
    db = store([
        business("marketing.campaign_created", at("2026-06-01"), campaign_id=campaign, name="春季", channel="email",
                 segment_id=uid("s"), variants=["A"]),
        business("marketing.campaign_spend_recorded", at("2026-06-02"), campaign_id=campaign, spend_id=uid("sp"),
                 channel="email", amount="800", currency="CNY", spent_on=at("2026-06-02")),
        imported("wang", "2026-06-05", "117659.95", currency="CNY"),
    ])  # fmt: skip
    await metrics.recompute_metrics(db, AnalyticsSettings(), datetime(2026, 8, 1, tzinfo=UTC))  # type: ignore[arg-type]
    body = client(db).get("/reports/acquisition", params=UNTIL, headers=ANALYST).json()
    assert body["summary"]["other_currencies"] == {"spend": {"CNY": "800.00"},
                                                   "new_customers_revenue": {"CNY": "117659.95"}}  # fmt: skip
