"""Sales end to end on the real servers: lead → customer → quote → paid order, and the CDNOW import."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.platform import Platform, eventually

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "cdnow" / "CDNOW_sample.txt"
LEAD = {
    "name": "王芳",
    "company": "深圳电子有限公司",
    "email": "wang.fang@shenzhen-elec.cn",
    "phone": "+8613712345678",
    "country": "CN",
    "source": "web_form",
}


def call(platform: Platform, method: str, path: str, role: str = "admin", **kwargs: Any) -> dict[str, Any]:
    response = httpx.request(
        method, f"{platform.url('sales')}{path}", headers=platform.headers(role), timeout=120, **kwargs
    )
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_lead_becomes_a_customer_with_a_paid_order(platform: Platform) -> None:
    for name in ("customer", "customer-relay", "customer-consumers", "sales", "sales-relay", "sales-consumers"):
        platform.start(name)
    platform.start("analytics-projector")
    platform.start("analytics")
    rep = {"name": "李雷", "team": "east", "territories": ["APAC"]}
    call(platform, "PUT", "/reps/it@example.com", json=rep)
    lead = call(platform, "POST", "/leads", json=LEAD)
    assert lead["owner"] == "it@example.com"
    assert lead["data"]["score"] == 60
    call(platform, "POST", f"/leads/{lead['id']}/qualify", json={"expected_version": lead["version"]})
    deal = {"name": "年度许可证", "amount": "1000.00", "currency": "EUR", "expected_close_date": "2026-12-31"}
    converted = call(platform, "POST", f"/leads/{lead['id']}/convert", json={"opportunity": deal})
    customer_id = converted["customer_id"]

    def registered() -> dict[str, Any] | None:
        response = httpx.get(f"{platform.url('customer')}/customers/{customer_id}", headers=platform.headers())
        return response.json() if response.status_code == 200 else None

    assert eventually(registered, timeout=60, what="customer registered")["name"] == "王芳"
    product = call(
        platform, "PUT", "/products/LIC-STD", json={"name": "许可证", "prices": {"EUR": "99.00"}, "tax_rate": "0.19"}
    )
    line = {"product_id": product["id"], "quantity": "3", "discount_percent": "10"}
    quote_body = {"opportunity_id": converted["opportunity_id"], "lines": [line], "valid_until": "2099-01-31"}
    quote = call(platform, "POST", "/quotes", json=quote_body)
    call(platform, "POST", f"/quotes/{quote['id']}/send", json={})
    call(platform, "POST", f"/quotes/{quote['id']}/accept", json={})
    order = call(platform, "POST", f"/orders/from-quote/{quote['id']}")
    call(platform, "POST", f"/orders/{order['id']}/pay", json={})
    doc = eventually(
        lambda: (d := platform.customer_360(customer_id)) and d.get("sales", {}).get("revenue") and d,
        timeout=60,
        what="paid order in the 360",
    )
    assert doc["name"] == "王芳"
    assert doc["sales"]["revenue"] == {"EUR": "318.09"}
    assert doc["sales"]["order_count"] == 1
    erased = httpx.delete(f"{platform.url('customer')}/customers/{customer_id}", headers=platform.headers())
    assert erased.status_code == 204
    forgotten = eventually(
        lambda: (lead_now := call(platform, "GET", f"/leads/{lead['id']}"))["data"].get("erased") and lead_now,
        timeout=60,
        what="the erasure reached the sales view",
    )
    assert (forgotten["data"]["name"], forgotten["data"]["email"]) == ("", None)


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_every_cdnow_sample_order_reaches_analytics_exactly_once(platform: Platform) -> None:
    for name in ("sales", "sales-relay", "analytics-projector", "analytics"):
        platform.start(name)
    text = SAMPLE.read_text()
    report = call(platform, "POST", "/imports/cdnow-orders", role="integration", content=text)
    rows = len(text.splitlines())
    assert (report["rows"], report["imported"], report["rejected"]) == (rows, rows, [])
    again = call(platform, "POST", "/imports/cdnow-orders", role="integration", content=text)
    assert (again["imported"], again["skipped"]) == (0, rows)
    started = time.monotonic()
    eventually(lambda: platform.end_offsets("crm.sales.v1") == rows, timeout=90, what="every order on Kafka")
    print(f"on Kafka after {time.monotonic() - started:.1f}s")

    def projected() -> int | None:
        docs = platform.mongo["customer_360"].find({"sales": {"$exists": True}}, {"sales.order_count": 1})
        total = sum(d["sales"]["order_count"] for d in docs)
        return total if total == rows else None

    eventually(projected, timeout=300, interval=2, what="every order in the 360")
    print(f"in the 360 after {time.monotonic() - started:.1f}s")
    revenue = sum(
        Decimal(d["sales"]["revenue"]["USD"]) for d in platform.mongo["customer_360"].find({"sales": {"$exists": True}})
    )
    expected = sum(Decimal(line.split()[-1]) for line in text.splitlines())
    assert revenue == expected
    assert platform.end_offsets("crm.sales.v1") == rows, "the re-import published nothing"
