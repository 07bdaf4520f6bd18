"""Marketing's metric segments end to end: "dormant high-value customers in CN who accept email".

Customers registered in the customer service, orders placed and paid in sales, metrics
computed by analytics from the events that reached it, and a marketing segment whose
metric conditions marketing asks analytics about (`POST /segments/customers`, role
integration). Metrics are computed as of 200 days from now, so today's orders are
dormant (more than 90, fewer than 365 days old).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from pymongo import AsyncMongoClient

from services.analytics.metrics import recompute_metrics
from services.analytics.settings import AnalyticsSettings, MetricsSettings
from tests.integration.platform import Platform, eventually

SECRET = "integration-tracking-secret-0123456789abcdef"  # test-only HMAC key


def register(platform: Platform, name: str, phone: str, email_consent: bool) -> str:
    body = {"name": name, "emails": [f"{uuid4().hex[:12]}@example.cn"], "phones": [phone],
            "consent": {"email": email_consent}}  # fmt: skip
    response = httpx.post(f"{platform.url('customer')}/customers", json=body, headers=platform.headers("sales_rep"))
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def buy(platform: Platform, product_id: str, customer_id: str, amount: str) -> None:
    sales, admin = platform.url("sales"), platform.headers("admin")
    line = {"product_id": product_id, "quantity": "1", "unit_price": amount}
    order = httpx.post(f"{sales}/orders", json={"customer_id": customer_id, "currency": "USD", "lines": [line]},
                       headers=admin)  # fmt: skip
    assert order.status_code == 201, order.text
    paid = httpx.post(f"{sales}/orders/{order.json()['id']}/pay", json={}, headers=admin)
    assert paid.status_code == 200, paid.text


def recompute(platform: Platform, as_of: datetime) -> int:
    settings = AnalyticsSettings(metrics=MetricsSettings(high_value_quantile=0.2))

    async def run() -> int:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.stack.env["CRM_MONGO_URL"], tz_aware=True)
        try:
            return await recompute_metrics(client[platform.mongo.name], settings, as_of)
        finally:
            await client.close()

    return asyncio.run(run())


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_dormant_high_value_customers_in_cn_who_accept_email(platform: Platform) -> None:
    for name in ("customer", "customer-relay", "sales", "sales-relay", "analytics-projector", "analytics"):
        platform.start(name)
    for name in ("marketing-consumers",):
        platform.start(name)
    platform.start(
        "marketing", CRM_MARKETING_TRACKING_SECRET=SECRET, CRM_MARKETING_ANALYTICS_URL=platform.url("analytics")
    )
    wanted = register(platform, "张伟", "+86 138 0000 0001", email_consent=True)
    no_consent = register(platform, "李娜", "+86 138 0000 0002", email_consent=False)
    abroad = register(platform, "Ada", "+1 212 555 0100", email_consent=True)
    small = register(platform, "王芳", "+86 138 0000 0003", email_consent=True)
    product = httpx.put(f"{platform.url('sales')}/products/GIFT", headers=platform.headers("admin"),
                        json={"name": "礼品卡", "prices": {"USD": "1.00"}, "tax_rate": "0"})  # fmt: skip
    assert product.status_code == 200, product.text
    for customer_id, amount in ((wanted, "1000"), (no_consent, "1000"), (abroad, "1000"), (small, "10")):
        buy(platform, product.json()["id"], customer_id, amount)
    paid = {"type": "crm.sales.order_paid.v1"}
    eventually(lambda: platform.mongo["customer_timeline"].count_documents(paid) == 4, timeout=90, what="payments")
    eventually(lambda: platform.mongo["customer_360"].count_documents({"phones": {"$ne": []}}) == 4, timeout=60)
    assert recompute(platform, datetime.now(UTC) + timedelta(days=200)) == 4

    marketing, marketer = platform.url("marketing"), platform.headers("marketer")
    rules = {"match": "all", "conditions": [
        {"metric": "lifecycle_stage", "op": "in", "values": ["dormant"]},
        {"metric": "value_tier", "op": "in", "values": ["high_value"]},
        {"attribute": "country", "values": ["CN"]},
        {"attribute": "consent", "channel": "email", "granted": True},
    ]}  # fmt: skip
    segment = httpx.post(f"{marketing}/segments", json={"name": "沉睡的高价值客户", "rules": rules}, headers=marketer)
    assert segment.status_code == 201, segment.text
    # A stage analytics does not know is refused when saved, in analytics' words, not at every preview.
    unknown = {"conditions": [{"metric": "lifecycle_stage", "op": "in", "values": ["hibernating"]}]}
    refused = httpx.post(f"{marketing}/segments", json={"name": "x", "rules": unknown}, headers=marketer)
    assert refused.status_code == 422, refused.text
    assert "hibernating" in refused.text

    def preview() -> dict[str, Any] | None:
        r = httpx.get(f"{marketing}/segments/{segment.json()['id']}/preview", headers=marketer, timeout=30)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body if body["count"] >= 1 else None

    body = eventually(preview, timeout=60, interval=0.5, what="the segment selects the customer")
    assert [s["customer_id"] for s in body["sample"]] == [wanted]
    assert body["count"] == 1
