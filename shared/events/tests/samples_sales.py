"""Valid data of every sales event, for the contract tests (`customer_id` is added there)."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "crm.sales.lead_converted.v1": {
        "lead_id": "3f1d2c4b-8a6e-4f0a-9b7c-2d5e6f708192",
        "opportunity_id": "0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d",
        "name": "李娜",
        "company": "上海贸易有限公司",
        "emails": ["li.na@example.cn"],
        "phones": ["+8613912345678"],
        "country": "CN",
        "source_channel": "web_form",
        "campaign_id": None,
        "consent": {"email": True},
        "converted_by": "rep-1@example.com",
        "converted_at": "2026-03-01T10:00:00+00:00",
    },
}
