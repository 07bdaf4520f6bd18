"""Schema evolution on the real servers: v1 messages already in Kafka and new v2 ones project alike.

An old relay put `crm.customer.registered.v1` (address as one line of text) on the
customer topic; after the upgrade the customer service publishes v2 (structured
address). The analytics projector, reading both from the same topic, shows every
customer's address structured. It runs on both event stores.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import httpx

from services.analytics.tests.builders import Stream
from shared.events import EventEnvelope
from shared.events.topics import CUSTOMER, dead_letter_topic
from tests.integration.platform import Platform, eventually
from tests.integration.test_analytics_projection import send

BEIJING = {"lines": ["建国路88号", "SOHO现代城A座1201"], "city": "北京市", "postal_code": "100022", "country": "CN"}
SHANGHAI = "上海市黄浦区, 南京东路100号"


def one_line(text: str) -> dict[str, Any]:
    return {"lines": [text], "city": None, "region": None, "postal_code": None, "country": None}


def register(platform: Platform, name: str, address: object) -> str:
    body = {"name": name, "emails": [f"{uuid4().hex[:8]}@example.cn"], "phones": [], "address": address}
    response = httpx.post(f"{platform.url('customer')}/customers", json=body, headers=platform.headers("sales_rep"))
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["id"]
    return customer_id


def address_in_360(platform: Platform, customer_id: str, expected: object) -> dict[str, Any] | None:
    doc = platform.customer_360(customer_id)
    return doc if doc is not None and doc["address"] == expected else None


def types_on_the_topic(platform: Platform) -> dict[str, set[str]]:
    """Event types on the customer topic, by customer."""
    found: dict[str, set[str]] = {}
    for record in platform.records(CUSTOMER):
        envelope = EventEnvelope.from_kafka(record.headers, record.value or b"")
        found.setdefault(envelope.subject or "", set()).add(envelope.type)
    return found


def test_v1_messages_from_an_old_relay_and_new_v2_events_all_show_structured_addresses(platform: Platform) -> None:
    platform.start_pipeline()
    s, old = Stream(), str(uuid4())
    send(  # what an old relay left on the topic before the upgrade
        platform,
        [
            s.make("crm.customer.registered.v1", old, old, name="李娜", address=SHANGHAI),
            s.make("crm.customer.profile_updated.v1", old, old, changed=["address"], address="杭州市西湖区"),
        ],
    )
    structured = register(platform, "张伟", "北京市朝阳区")
    url = f"{platform.url('customer')}/customers/{structured}"
    patched = httpx.patch(url, json={"expected_version": 1, "address": BEIJING}, headers=platform.headers("sales_rep"))
    assert patched.status_code == 200, patched.text
    legacy_client = register(platform, "王芳", "广州市天河区体育西路1号")

    eventually(lambda: address_in_360(platform, old, one_line("杭州市西湖区")), what="v1 messages, upcast")
    eventually(lambda: address_in_360(platform, structured, {**BEIJING, "region": None}), what="a v2 update")
    eventually(lambda: address_in_360(platform, legacy_client, one_line("广州市天河区体育西路1号")), what="a string")
    types = types_on_the_topic(platform)
    assert types[old] == {"crm.customer.registered.v1", "crm.customer.profile_updated.v1"}
    assert types[structured] == {"crm.customer.registered.v2", "crm.customer.profile_updated.v2"}
    assert types[legacy_client] == {"crm.customer.registered.v2"}
    an_invalid_v1_message_is_dead_lettered_not_upcast(platform, s)


def an_invalid_v1_message_is_dead_lettered_not_upcast(platform: Platform, s: Stream) -> None:
    """A v1 message carrying v2's address shape is not valid v1: parked, never projected."""
    bad = str(uuid4())
    envelope, event = s.make("crm.customer.registered.v1", bad, bad)
    send(platform, [(envelope.model_copy(update={"data": {**envelope.data, "address": BEIJING}}), event)])
    dead = eventually(lambda: platform.records(dead_letter_topic("analytics")), what="the invalid v1 message parked")
    assert [r.key for r in dead] == [bad.encode()]
    assert "ValidationError" in dict(dead[0].headers)["dlq_error"].decode()
    assert platform.customer_360(bad) is None
