"""Valid data of every support event, for the contract tests (`customer_id` is added there)."""

from __future__ import annotations

from typing import Any

TICKET = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
QUEUE = "4a2d3c5b-6e7f-4081-9b0c-1d2e3f4a5b6c"
AT = "2026-03-03T09:30:00+00:00"

SAMPLES: dict[str, dict[str, Any]] = {
    "crm.support.ticket_opened.v1": {
        "ticket_id": TICKET,
        "channel": "email",
        "subject": "订单没有到",
        "description": "我上周下的订单还没有收到。",
        "category": "delivery",
        "priority": "P2",
        "first_response_minutes": 240,
        "resolution_minutes": 960,
        "opened_by": "agent@example.com",
        "opened_at": AT,
        "source_interaction_id": None,
    },
    "crm.support.ticket_assigned.v1": {
        "ticket_id": TICKET,
        "queue_id": QUEUE,
        "assignee": "li.lei@example.com",
        "method": "round_robin",
        "assigned_by": "system",
        "assigned_at": AT,
    },
    "crm.support.ticket_status_changed.v1": {
        "ticket_id": TICKET,
        "from_status": "open",
        "to_status": "pending",
        "changed_by": "li.lei@example.com",
        "changed_at": AT,
    },
    "crm.support.ticket_replied.v1": {
        "ticket_id": TICKET,
        "reply_id": "5b3e4d6c-7f80-4192-8c1d-2e3f4a5b6c7d",
        "author": "li.lei@example.com",
        "body": "您好，我们正在查询您的订单。",
        "first_response": True,
        "replied_at": AT,
    },
    "crm.support.ticket_priority_changed.v1": {
        "ticket_id": TICKET,
        "priority": "P1",
        "first_response_minutes": 60,
        "resolution_minutes": 240,
        "changed_by": "lead@example.com",
        "changed_at": AT,
    },
    "crm.support.ticket_category_changed.v1": {
        "ticket_id": TICKET,
        "category": "billing",
        "queue_id": QUEUE,
        "changed_by": "li.lei@example.com",
        "changed_at": AT,
    },
    "crm.support.ticket_escalated.v1": {
        "ticket_id": TICKET,
        "tier": 2,
        "reason": "needs a carrier claim",
        "queue_id": None,
        "escalated_by": "li.lei@example.com",
        "escalated_at": AT,
    },
    "crm.support.ticket_merged.v1": {
        "ticket_id": TICKET,
        "survivor_id": "6c4f5e7d-8091-42a3-9d2e-3f4a5b6c7d8e",
        "merged_by": "li.lei@example.com",
        "merged_at": AT,
    },
    "crm.support.ticket_customer_changed.v1": {
        "ticket_id": TICKET,
        "previous_customer_id": "7d5a6f8e-9102-43b4-8e3f-4a5b6c7d8e9f",
    },
    "crm.support.sla_warned.v1": {
        "ticket_id": TICKET,
        "target": "first_response",
        "target_minutes": 240,
        "elapsed_seconds": 10800.0,
        "due_at": "2026-03-03T13:30:00+00:00",
        "warned_at": AT,
    },
    "crm.support.sla_breached.v1": {
        "ticket_id": TICKET,
        "target": "resolution",
        "target_minutes": 960,
        "elapsed_seconds": 57600.0,
        "due_at": "2026-03-05T09:30:00+00:00",
        "breached_at": AT,
    },
    "crm.support.survey_answered.v1": {
        "ticket_id": TICKET,
        "csat": 5,
        "nps": 9,
        "comment": "非常感谢！",
        "answered_at": AT,
    },
    "crm.support.feedback_recorded.v1": {
        "feedback_id": "8e6b7a9f-a213-44c5-9f4a-5b6c7d8e9fa0",
        "ticket_id": TICKET,
        "kind": "praise",
        "text": "客服很耐心。",
        "recorded_by": "li.lei@example.com",
        "recorded_at": AT,
    },
}
