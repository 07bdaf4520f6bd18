"""Valid data of every sales event, for the contract tests (`customer_id` is added there)."""

from __future__ import annotations

from typing import Any

LEAD = "3f1d2c4b-8a6e-4f0a-9b7c-2d5e6f708192"
OPPORTUNITY = "0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
QUOTE = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
ORDER = "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
PRODUCT = "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a"
CAMPAIGN = "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
AT = "2026-03-01T10:00:00+00:00"

SAMPLES: dict[str, dict[str, Any]] = {
    "crm.sales.lead_converted.v1": {
        "lead_id": LEAD,
        "opportunity_id": OPPORTUNITY,
        "name": "李娜",
        "company": "上海贸易有限公司",
        "emails": ["li.na@example.cn"],
        "phones": ["+8613912345678"],
        "country": "CN",
        "source_channel": "web_form",
        "campaign_id": None,
        "consent": {"email": True},
        "converted_by": "rep-1@example.com",
        "converted_at": AT,
    },
    "crm.sales.lead_captured.v1": {
        "lead_id": LEAD,
        "source_channel": "campaign",
        "campaign_id": CAMPAIGN,
        "country": "CN",
        "company": "上海贸易有限公司",
        "captured_by": "integration@example.com",
        "captured_at": AT,
    },
    "crm.sales.lead_scored.v1": {"lead_id": LEAD, "score": 55, "reasons": ["source campaign +20", "fit country +15"]},
    "crm.sales.lead_assigned.v1": {"lead_id": LEAD, "owner": "rep-1@example.com", "rule": "territory"},
    "crm.sales.lead_qualified.v1": {"lead_id": LEAD, "qualified_by": "rep-1@example.com"},
    "crm.sales.lead_disqualified.v1": {"lead_id": LEAD, "reason": "no budget", "disqualified_by": "rep-1@example.com"},
    "crm.sales.opportunity_opened.v1": {
        "opportunity_id": OPPORTUNITY,
        "name": "年度许可证",
        "amount": "12000.00",
        "currency": "CNY",
        "stage": "prospecting",
        "probability": "0.1",
        "expected_close_date": "2026-06-30",
        "owner": "rep-1@example.com",
        "campaign_id": CAMPAIGN,
        "lead_id": LEAD,
    },
    "crm.sales.opportunity_stage_changed.v1": {
        "opportunity_id": OPPORTUNITY,
        "from_stage": "prospecting",
        "to_stage": "proposal",
        "probability": "0.5",
        "changed_at": AT,
    },
    "crm.sales.opportunity_updated.v1": {"opportunity_id": OPPORTUNITY, "changed": ["amount"], "amount": "15000.00"},
    "crm.sales.opportunity_won.v1": {
        "opportunity_id": OPPORTUNITY,
        "amount": "14500.00",
        "currency": "CNY",
        "won_at": AT,
    },
    "crm.sales.opportunity_lost.v1": {
        "opportunity_id": OPPORTUNITY,
        "reason": "price",
        "competitor": "Acme",
        "lost_at": AT,
    },
    "crm.sales.opportunity_reopened.v1": {"opportunity_id": OPPORTUNITY, "stage": "negotiation", "probability": "0.7"},
    "crm.sales.product_upserted.v1": {
        "product_id": PRODUCT,
        "sku": "LIC-STD",
        "name": "标准许可证",
        "prices": [{"currency": "EUR", "unit_price": "99.00"}, {"currency": "JPY", "unit_price": "13000"}],
        "tax_rate": "0.19",
        "active": True,
    },
    "crm.sales.quote_issued.v1": {
        "quote_id": QUOTE,
        "opportunity_id": OPPORTUNITY,
        "revision": 1,
        "currency": "EUR",
        "lines": [
            {
                "product_id": PRODUCT,
                "sku": "LIC-STD",
                "name": "标准许可证",
                "quantity": "3",
                "unit_price": "99.00",
                "discount_percent": "10",
                "tax_rate": "0.19",
                "net": "267.30",
                "tax": "50.79",
            }
        ],
        "subtotal": "267.30",
        "tax_total": "50.79",
        "total": "318.09",
        "valid_until": "2026-03-31",
    },
    "crm.sales.quote_sent.v1": {"quote_id": QUOTE, "revision": 1},
    "crm.sales.quote_accepted.v1": {"quote_id": QUOTE, "revision": 1, "total": "318.09", "currency": "EUR"},
    "crm.sales.quote_rejected.v1": {"quote_id": QUOTE, "revision": 1, "reason": "too expensive"},
    "crm.sales.quote_expired.v1": {"quote_id": QUOTE, "revision": 2},
    "crm.sales.order_placed.v1": {
        "order_id": ORDER,
        "source": "quote",
        "quote_id": QUOTE,
        "currency": "EUR",
        "total": "318.09",
        "placed_at": AT,
    },
    "crm.sales.order_paid.v1": {"order_id": ORDER, "amount": "318.09", "currency": "EUR", "paid_at": AT},
    "crm.sales.order_shipped.v1": {"order_id": ORDER, "shipped_at": AT},
    "crm.sales.order_delivered.v1": {"order_id": ORDER, "delivered_at": AT},
    "crm.sales.order_cancelled.v1": {"order_id": ORDER, "reason": "customer changed mind", "cancelled_at": AT},
    "crm.sales.order_refunded.v1": {
        "order_id": ORDER,
        "amount": "18.09",
        "refunded_total": "18.09",
        "currency": "EUR",
        "reason": "damaged box",
        "refunded_at": AT,
    },
    "crm.sales.order_imported.v1": {
        "order_id": ORDER,
        "external_id": "cdnow:00004:19970101:1",
        "currency": "USD",
        "total": "29.33",
        "quantity": 2,
        "placed_at": "1997-01-01T00:00:00+00:00",
        "paid_at": "1997-01-01T00:00:00+00:00",
    },
}
