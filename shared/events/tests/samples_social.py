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

ACCOUNT = "9d4e5f6a-7b8c-4d9e-8f0a-2b3c4d5e6f70"
POST = "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b"
INTERACTION = "8c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
WHEN = "2026-03-03T12:00:00+00:00"

SAMPLES.update(
    {
        "crm.social.account_connected.v1": {
            "account_id": ACCOUNT,
            "platform": "weibo",
            "handle": "@acme_cn",
            "connector": "generic_http",
        },
        "crm.social.account_disconnected.v1": {"account_id": ACCOUNT},
        "crm.social.post_drafted.v1": {
            "post_id": POST,
            "account_id": ACCOUNT,
            "text": "春季新品上市！",
            "created_by": "community@example.com",
        },
        "crm.social.post_scheduled.v1": {"post_id": POST, "account_id": ACCOUNT, "scheduled_for": WHEN},
        "crm.social.post_published.v1": {
            "post_id": POST,
            "account_id": ACCOUNT,
            "platform_post_id": "wb-123456",
            "published_at": WHEN,
            "attempts": 1,
        },
        "crm.social.post_publish_failed.v1": {
            "post_id": POST,
            "account_id": ACCOUNT,
            "attempts": 3,
            "error": "HTTP 503 from the platform",
            "failed_at": WHEN,
        },
        "crm.social.post_deleted.v1": {"post_id": POST, "account_id": ACCOUNT},
        "crm.social.post_engagement_updated.v1": {
            "post_id": POST,
            "account_id": ACCOUNT,
            "likes": 120,
            "comments": 8,
            "shares": 15,
            "measured_at": WHEN,
        },
        "crm.social.interaction_received.v1": {
            "interaction_id": INTERACTION,
            "account_id": ACCOUNT,
            "platform": "weibo",
            "kind": "comment",
            "sentiment": "positive",
            "occurred_at": WHEN,
        },
        "crm.social.interaction_linked_to_customer.v1": {
            "interaction_id": INTERACTION,
            "account_id": ACCOUNT,
            "platform": "weibo",
            "kind": "mention",
            "author_handle": "@wang_fang",
            "text": "客服太慢了，订单还没到！",
            "sentiment": "negative",
            "occurred_at": WHEN,
            "method": "handle",
            "linked_by": "social-identity",
        },
        "crm.social.interaction_unlinked_from_customer.v1": {"interaction_id": INTERACTION},
        "crm.social.interaction_assigned.v1": {
            "interaction_id": INTERACTION,
            "assignee": "li.na@example.com",
            "assigned_by": "lead@example.com",
        },
        "crm.social.interaction_replied.v1": {
            "interaction_id": INTERACTION,
            "platform_reply_id": "wb-reply-9",
            "replied_by": "li.na@example.com",
            "replied_at": WHEN,
        },
        "crm.social.interaction_closed.v1": {"interaction_id": INTERACTION, "closed_by": "li.na@example.com"},
    }
)
