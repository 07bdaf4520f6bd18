"""Customer events of both versions fold into one structured address in the 360."""

from __future__ import annotations

import json
from typing import Any

from services.analytics import customer360
from services.analytics.projection import Item
from services.analytics.tests.builders import Stream

OLD = "5b3f0a4e-7a43-4d8e-9a1e-3f2b7c6d5e4f"
NEW = "6c4e1b5f-8b54-4e9f-8b2f-4a3c8d7e6f50"
BEIJING = {"lines": ["建国路88号", "SOHO现代城A座1201"], "city": "北京市", "postal_code": "100022", "country": "CN"}
STRUCTURED = {"region": None, **BEIJING}


def one_line(text: str) -> dict[str, Any]:
    return {"lines": [text], "city": None, "region": None, "postal_code": None, "country": None}


def project(customer_id: str, items: list[Item]) -> customer360.Document:
    doc = customer360.new_document(customer_id)
    for envelope, event in items:
        if not customer360.is_applied(doc, envelope):
            doc = customer360.fold(doc, envelope, event)
    return doc


def test_a_v1_and_a_v2_registration_both_give_a_structured_address() -> None:
    s = Stream()
    old = s.make("crm.customer.registered.v1", OLD, OLD, address="上海市黄浦区, 南京东路100号")
    new = s.make("crm.customer.registered.v2", NEW, NEW, address=BEIJING)
    assert old[0].type == "crm.customer.registered.v1", "the message on the wire stays v1"
    assert project(OLD, [old])["address"] == one_line("上海市黄浦区, 南京东路100号")
    assert project(NEW, [new])["address"] == STRUCTURED


def test_v1_and_v2_profile_updates_interleave_on_one_customer() -> None:
    s = Stream()
    items = [
        s.make("crm.customer.registered.v1", OLD, OLD, address=None),
        s.make("crm.customer.profile_updated.v2", OLD, OLD, changed=["address"], address=BEIJING),
    ]
    assert project(OLD, items)["address"] == STRUCTURED
    items.append(s.make("crm.customer.profile_updated.v1", OLD, OLD, changed=["address"], address="广州市天河区"))
    assert project(OLD, items)["address"] == one_line("广州市天河区")
    items.append(s.make("crm.customer.profile_updated.v1", OLD, OLD, changed=["address"], address=None))
    assert project(OLD, items)["address"] is None
    items.append(s.make("crm.customer.profile_updated.v2", OLD, OLD, changed=["tags"], tags=["vip"]))
    assert project(OLD, items)["address"] is None, "an update that does not name the address keeps it"


def test_projection_of_mixed_versions_is_deterministic_and_idempotent() -> None:
    s = Stream()
    items = [
        s.make("crm.customer.registered.v1", OLD, OLD, address="北京市朝阳区"),
        s.make("crm.customer.profile_updated.v2", OLD, OLD, changed=["address"], address=BEIJING),
    ]
    once = project(OLD, items)
    assert json.dumps(project(OLD, items + items), ensure_ascii=False) == json.dumps(once, ensure_ascii=False)


def test_erasure_removes_the_structured_address() -> None:
    s = Stream()
    items = [
        s.make("crm.customer.registered.v2", NEW, NEW, address=BEIJING),
        s.make("crm.customer.erased.v1", NEW, NEW),
    ]
    redelivered = items + items[:1]
    assert project(NEW, redelivered)["address"] is None
