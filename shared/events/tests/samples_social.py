"""Valid data of every social event, for the contract tests (`customer_id` is added there)."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, dict[str, Any]] = {
    "crm.social.interaction_escalated.v1": {
        "interaction_id": "8c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
        "account_id": "9d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f70",
        "platform": "weibo",
        "kind": "mention",
        "author_handle": "@wang_fang",
        "text": "客服太慢了，订单还没到！",
        "sentiment": "negative",
        "priority": "P2",
        "reason": "late delivery complaint",
        "escalated_by": "community@example.com",
        "escalated_at": "2026-03-03T12:00:00+00:00",
        "permalink": None,
    },
}
