"""Demo customers for a new local platform: names in several scripts, duplicates to find.

Loaded through the customer API like any client would, with deterministic ids so that
seeding twice changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from rich.progress import Progress

from shared.platform.auth import AuthSettings, issue_token

_NAMESPACE = uuid.UUID("0d9a4c8e-3f0b-4b7e-8f57-6a1e2b3c4d5e")

NAMED: list[dict[str, Any]] = [
    {
        "name": "张伟",
        "emails": ["zhang.wei@example.cn"],
        "phones": ["+86 138 1234 5678"],
        "source": "web",
        "tags": ["vip"],
        "consent": {"email": True, "sms": True},
        "address": "北京市朝阳区建国路 88 号",
    },
    {"name": "張偉", "emails": ["zwei@example.com"], "phones": ["+86 138 1234 5678"], "source": "import"},
    {
        "name": "李娜",
        "emails": ["li.na@example.cn"],
        "phones": ["+86 139 0000 1111"],
        "source": "referral",
        "consent": {"email": True},
    },
    {
        "name": "Ada Lovelace",
        "emails": ["ada@example.co.uk"],
        "phones": ["+44 20 7946 0001"],
        "source": "event",
        "tags": ["engineering"],
    },
    {"name": "Ada Lovelace", "emails": ["ADA@example.co.uk"], "phones": [], "source": "import"},
    {
        "name": "José Álvarez",
        "emails": ["jose.alvarez@example.es"],
        "phones": ["+34 612 345 678"],
        "source": "web",
        "consent": {"email": True, "phone": True},
    },
    {"name": "Наталья Смирнова", "emails": ["n.smirnova@example.ru"], "phones": [], "source": "partner"},
    {
        "name": "佐藤 花子",
        "emails": ["hanako.sato@example.jp"],
        "phones": ["+81 90 1234 5678"],
        "source": "web",
        "tags": ["newsletter"],
        "consent": {"email": True},
    },
]


def demo_customers(count: int) -> list[dict[str, Any]]:
    """The named demo customers, then generated ones up to `count`."""
    generated = [
        {
            "name": f"Demo Customer {n:03d}",
            "emails": [f"demo{n:03d}@example.com"],
            "phones": [],
            "source": ["web", "referral", "event", "import"][n % 4],
            "consent": {"email": n % 3 != 0},
        }
        for n in range(max(count - len(NAMED), 0))
    ]
    customers = NAMED + generated
    for index, customer in enumerate(customers):
        customer["id"] = str(uuid.uuid5(_NAMESPACE, f"demo-{index}"))
    return customers


def seed(base_url: str, count: int) -> int:
    """Register the demo customers that are not there yet; how many were new."""
    token = issue_token(AuthSettings().secret.get_secret_value(), "seed@example.com", ["admin"])
    new = 0
    with (
        httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client,
        Progress() as progress,
    ):
        customers = demo_customers(count)
        task = progress.add_task("Loading demo customers", total=len(customers))
        for index, customer in enumerate(customers):
            if client.get(f"/customers/{customer['id']}").status_code == 404:
                client.post("/customers", json=customer).raise_for_status()
                _interact(client, customer["id"], index)
                new += 1
            progress.advance(task)
    return new


def _interact(client: httpx.Client, customer_id: str, index: int) -> None:
    when = datetime(2026, 11, 1, 9, tzinfo=UTC) + timedelta(hours=index)
    body = {
        "kind": ["call", "email", "meeting", "visit", "note"][index % 5],
        "summary": "Intro call 介绍",
        "occurred_at": when.isoformat(),
    }
    client.post(f"/customers/{customer_id}/interactions", json=body).raise_for_status()
