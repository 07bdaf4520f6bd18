"""The social service end to end on the real servers.

A signed mention from a known customer arrives → it is linked to the customer by their
email (customer stream → social consumers) → scored negative → escalated → the escalation
is on Kafka, keyed by the customer → the 360 shows the interaction, its sentiment and the
escalation; erasing the customer then removes the text from the social service and the 360.
"""

from __future__ import annotations

import json
import time
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import httpx
import pytest

from services.social import signing
from shared.events import EventEnvelope
from tests.integration.platform import Platform, eventually

MENTION_TEXT = "@acme_cn 客服太慢了，订单还没到！"


def register_customer(platform: Platform) -> str:
    body = {"name": "王芳", "emails": ["wang.fang@example.cn"], "phones": [], "consent": {"social": True}}
    response = httpx.post(f"{platform.url('customer')}/customers", json=body, headers=platform.headers("sales_rep"))
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def connect_account(platform: Platform, endpoint: str = "http://127.0.0.1:9/unused") -> dict[str, Any]:
    body = {"platform": "weibo", "handle": "@acme_cn", "endpoint_url": endpoint, "credentials": {"token": "tok-1"}}
    response = httpx.post(f"{platform.url('social')}/accounts", json=body, headers=platform.headers("marketer"))
    assert response.status_code == 201, response.text
    account: dict[str, Any] = response.json()
    return account


def deliver(platform: Platform, account: dict[str, Any], payload: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(payload, ensure_ascii=False).encode()
    now = int(time.time())
    headers = {
        signing.TIMESTAMP_HEADER: str(now),
        signing.SIGNATURE_HEADER: signing.sign(account["webhook_secret"], now, raw),
        "Content-Type": "application/json",
    }
    return httpx.post(f"{platform.url('social')}/webhooks/{account['id']}", content=raw, headers=headers)


def mention(delivery: str) -> dict[str, Any]:
    return {
        "delivery_id": delivery,
        "event": {
            "type": "mention",
            "id": "wb-mention-1",
            "author": {"handle": "@wang_fang", "name": "王芳", "email": "Wang.Fang@example.cn"},
            "text": MENTION_TEXT,
            "occurred_at": "2026-03-03T08:55:00+00:00",
        },
    }


def interaction(platform: Platform, interaction_id: str) -> dict[str, Any]:
    url = f"{platform.url('social')}/interactions/{interaction_id}"
    response = httpx.get(url, headers=platform.headers("support_agent"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def escalations_on_kafka(platform: Platform, customer_id: str) -> list[EventEnvelope]:
    envelopes = [EventEnvelope.from_kafka(r.headers, r.value or b"") for r in platform.records("crm.social.v1")]
    return [e for e in envelopes if e.type == "crm.social.interaction_escalated.v1" and e.subject == customer_id]


def test_a_signed_mention_from_a_customer_is_linked_scored_escalated_and_reaches_the_360(platform: Platform) -> None:
    # Background processes first: they do not wait to be healthy, so they load while the APIs start.
    for name in ("customer-relay", "social-relay", "social-consumers", "analytics-projector"):
        platform.start(name)
    for name in ("customer", "social", "analytics"):
        platform.start(name)
    customer_id = register_customer(platform)
    account = connect_account(platform)

    stored = deliver(platform, account, mention("dlv-1"))
    assert stored.status_code == 202, stored.text
    interaction_id = stored.json()["interaction_id"]
    assert deliver(platform, account, mention("dlv-1")).status_code == 409, "a replayed delivery is refused"
    assert deliver(platform, account, mention("dlv-2")).json()["outcome"] == "duplicate"

    linked = eventually(
        lambda: (row := interaction(platform, interaction_id))["customer_id"] == customer_id and row,
        what="the mention linked to the customer by email",
    )
    assert (linked["sentiment"], linked["link_method"]) == ("negative", "email")

    escalate = {"priority": "P2", "reason": "late delivery", "expected_version": linked["version"]}
    url = f"{platform.url('social')}/interactions/{interaction_id}/escalate"
    assert httpx.post(url, json=escalate, headers=platform.headers("support_agent")).status_code == 200

    [event] = eventually(lambda: escalations_on_kafka(platform, customer_id), what="escalation on Kafka")
    assert (event.data["text"], event.data["sentiment"], event.data["priority"]) == (MENTION_TEXT, "negative", "P2")

    doc = eventually(
        lambda: (d := platform.customer_360(customer_id)) and d.get("social", {}).get("escalation_count") == 1 and d,
        what="the social section of the 360",
    )
    social = doc["social"]
    assert (social["interaction_count"], social["by_sentiment"], social["by_kind"]) == (
        1,
        {"negative": 1},
        {"mention": 1},
    )
    assert social["interactions"][interaction_id]["text"] == MENTION_TEXT

    erased = httpx.delete(f"{platform.url('customer')}/customers/{customer_id}", headers=platform.headers("admin"))
    assert erased.status_code == 204
    eventually(lambda: interaction(platform, interaction_id)["text"] == "", what="the text erased in social")
    doc = eventually(lambda: platform.customer_360(customer_id, erased=True), what="erasure in the 360")
    assert doc["social"]["handles"] == []
    assert doc["social"]["interactions"][interaction_id]["text"] == ""


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_an_escalation_opens_a_ticket_in_the_support_service(platform: Platform) -> None:
    for name in ("customer-relay", "social-relay", "support-consumers", "customer", "social", "support"):
        platform.start(name, CRM_SUPPORT_SURVEY_SECRET="integration-survey-secret-0123456789abcdef")
    customer_id = register_customer(platform)
    account = connect_account(platform)
    interaction_id = deliver(platform, account, mention("dlv-1")).json()["interaction_id"]
    link = {"customer_id": customer_id}
    agent = platform.headers("support_agent")
    base = f"{platform.url('social')}/interactions/{interaction_id}"
    assert httpx.put(f"{base}/customer", json=link, headers=agent).status_code == 200
    assert httpx.post(f"{base}/escalate", json={"priority": "P1", "reason": "angry"}, headers=agent).status_code == 200

    # The support service opens the ticket under an id derived from the interaction (its documented rule).
    ticket_id = uuid5(NAMESPACE_URL, f"crm:support:social-interaction:{interaction_id}")

    def ticket() -> dict[str, Any] | None:
        response = httpx.get(f"{platform.url('support')}/tickets/{ticket_id}", headers=agent)
        found: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return found

    opened = eventually(ticket, what="a ticket opened for the escalation")
    assert (opened["priority"], opened["customer_id"], opened["channel"]) == ("P1", customer_id, "social")
