"""Valid data of every marketing event, for the contract tests (`customer_id` is added there)."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "crm.marketing.unsubscribed.v1": {
        "channel": "email",
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "message_id": "7b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
        "unsubscribed_at": "2026-03-02T08:00:00+00:00",
    },
    "crm.marketing.link_clicked.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "message_id": "7b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
        "url": "https://shop.example.com/春季",
        "clicked_at": "2026-03-02T07:59:00+00:00",
    },
}
