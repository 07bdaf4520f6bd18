"""Valid data of every customer event, for the contract tests (`customer_id` is added there)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

SAMPLES: dict[str, dict[str, Any]] = {
    "crm.customer.registered.v1": {
        "name": "张伟",
        "emails": ["zhang.wei@example.cn"],
        "phones": ["+8613812345678"],
        "address": "北京市朝阳区",
        "source": "web",
        "tags": ["vip"],
        "consent": {"email": True},
    },
    "crm.customer.registered.v2": {
        "name": "张伟",
        "emails": ["zhang.wei@example.cn"],
        "phones": ["+8613812345678"],
        "address": {
            "lines": ["建国路88号", "SOHO现代城A座1201"],
            "city": "北京市",
            "region": "北京市",
            "postal_code": "100022",
            "country": "CN",
        },
        "source": "web",
        "tags": ["vip"],
        "consent": {"email": True},
    },
    "crm.customer.profile_updated.v1": {"changed": ["name"], "name": "Zhang Wei"},
    "crm.customer.profile_updated.v2": {
        "changed": ["address"],
        "address": {"lines": ["1 Infinite Loop"], "city": "Cupertino", "region": "CA", "country": "US"},
    },
    "crm.customer.contact_point_added.v1": {"kind": "phone", "value": "+447911123456"},
    "crm.customer.contact_point_removed.v1": {"kind": "email", "value": "old@example.com"},
    "crm.customer.interaction_recorded.v1": {
        "interaction_id": str(uuid4()),
        "kind": "call",
        "summary": "Renewal call",
        "occurred_at": "2026-01-05T09:30:00+00:00",
        "recorded_by": "rep-1",
    },
    "crm.customer.consent_changed.v1": {"channel": "sms", "granted": False},
    "crm.customer.merged.v1": {"survivor_id": str(uuid4())},
    "crm.customer.duplicate_absorbed.v1": {"merged_id": str(uuid4()), "emails": [], "phones": [], "tags": []},
    "crm.customer.erased.v1": {},
}
