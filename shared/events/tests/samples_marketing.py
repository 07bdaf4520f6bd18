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
    "crm.marketing.campaign_created.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "name": "春季促销",
        "channel": "email",
        "segment_id": "8c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f",
        "variants": ["A", "B"],
    },
    "crm.marketing.campaign_scheduled.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "send_at": "2026-03-01T09:00:00+00:00",
    },
    "crm.marketing.campaign_sending_started.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "audience_size": 1200,
        "excluded": {"no_consent": 40, "unsubscribed": 3},
        "started_at": "2026-03-01T09:00:01+00:00",
    },
    "crm.marketing.campaign_completed.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "sent": 1190,
        "bounced": 8,
        "withheld": 2,
        "completed_at": "2026-03-01T09:05:00+00:00",
    },
    "crm.marketing.campaign_cancelled.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "cancelled_by": "marketer@example.com",
        "cancelled_at": "2026-03-01T08:00:00+00:00",
    },
    "crm.marketing.campaign_spend_recorded.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "spend_id": "9d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f7a",
        "channel": "email",
        "amount": "1250.50",
        "currency": "CNY",
        "note": "ESP invoice March",
        "spent_on": "2026-03-01T00:00:00+00:00",
    },
    "crm.marketing.message_sent.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "message_id": "7b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
        "channel": "email",
        "variant": "A",
        "sent_at": "2026-03-01T09:00:02+00:00",
        "confirmed": True,
    },
    "crm.marketing.message_bounced.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "message_id": "7b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
        "channel": "email",
        "permanent": True,
        "code": 550,
        "bounced_at": "2026-03-01T09:00:02+00:00",
    },
    "crm.marketing.email_opened.v1": {
        "campaign_id": "6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "message_id": "7b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e",
        "opened_at": "2026-03-01T10:00:00+00:00",
    },
}
