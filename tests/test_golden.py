"""What outside clients depend on, recorded: a change to it is a decision, never a side effect of a refactor.

Recorded under `tests/golden/`: each service's OpenAPI document, and the public events
(CloudEvents headers and body, as the relay puts them on Kafka) that a fixed script of
commands produces, for each of the five services that publish. Ids and times, which
differ on every run, are replaced by placeholders numbered in order of first appearance,
so the same behaviour gives the same file.

A change you mean: `CRM_GOLDEN_UPDATE=1 .venv/bin/pytest tests/test_golden.py` rewrites the
files; review the diff and say in the commit what changed for clients and why.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock
from uuid import UUID

import pytest

from services.customer.application import CustomerApplication
from services.customer.relay import to_public as customer_public
from services.marketing.application import MarketingApplication
from services.marketing.relay import to_public_for
from services.marketing.tests.conftest import NOW as MARKETING_NOW
from services.marketing.tests.test_relay_mapping import campaign_story
from services.sales import relay as sales_relay
from services.sales.application import SalesApplication
from services.sales.tests.test_relay_mapping import week
from services.social import relay as social_relay
from services.social.tests.conftest import Clock as SocialClock
from services.social.tests.conftest import FakePlatform
from services.social.tests.conftest import make_app as make_social_app
from services.social.tests.test_relay_mapping import whole_story
from services.support.application import SupportApplication
from services.support.relay import SupportPublisher
from services.support.surveys import SurveySigner
from services.support.tests.conftest import FakeClock
from shared.events import customer as public
from shared.platform.eventstore import EventStoreSettings, persistence_env
from shared.platform.outbox import Relay, ToPublic
from tests.test_openapi import SERVICES, openapi_of

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("CRM_GOLDEN_UPDATE") == "1"
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
UNSTABLE_HEADERS = ("traceparent", "tracestate", "ce_traceparent", "ce_tracestate")


def matches_recording(name: str, value: Any) -> None:
    """`value` equals the recording `tests/golden/<name>.json` (written instead with CRM_GOLDEN_UPDATE=1)."""
    path = GOLDEN / f"{name}.json"
    text = json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no recording {path.relative_to(GOLDEN.parent.parent)}: run with CRM_GOLDEN_UPDATE=1"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text), f"{name} differs from its recording"


@pytest.mark.parametrize("service", SERVICES)
def test_the_openapi_document_is_as_recorded(service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matches_recording(f"openapi/{service}", openapi_of(service, tmp_path, monkeypatch))


def placeholders(value: Any) -> Any:
    """`value` with every UUID and timestamp replaced by `<id N>` / `<time N>`, numbered by first appearance."""
    seen: dict[str, str] = {}
    counts: Counter[str] = Counter()

    def name(kind: str) -> Callable[[re.Match[str]], str]:
        def replace(found: re.Match[str]) -> str:
            if found.group(0) not in seen:
                seen[found.group(0)] = f"<{kind} {counts[kind]}>"
                counts[kind] += 1
            return seen[found.group(0)]

        return replace

    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = UUID_TEXT.sub(name("id"), TIME_TEXT.sub(name("time"), text))
    return json.loads(text)


def kafka_records(app: Any, to_public: ToPublic, service: str, start: int = 1) -> list[dict[str, Any]]:
    """What the service's relay puts on Kafka for the events in `app`'s store from notification `start` on.

    Read as the relay reads them right after they are stored (before a later erasure
    shreds what they hold): headers, key and body.
    """
    relay = Relay(service=service, app=app, tracking=MagicMock(), to_public=to_public, publish=MagicMock())
    records = []
    for notification in app.recorder.select_notifications(start=start, limit=10_000):
        envelope = relay.envelope(notification)
        if envelope is not None:
            headers = {k: v for k, v in envelope.headers().items() if k not in UNSTABLE_HEADERS}
            key = envelope.key.decode() if isinstance(envelope.key, bytes) else envelope.key
            records.append({"key": key, "headers": headers, "value": json.loads(envelope.body())})
    return records


def customer_script() -> tuple[CustomerApplication, UUID]:
    """A customer's life up to their erasure: every other public customer event at least once."""
    app = CustomerApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, default_region="CN")
    survivor = app.register(
        name="王芳", emails=["Wang.Fang@Example.cn"], phones=["138 0013 8000"],
        address={"lines": ["建国路88号"], "city": "北京市", "country": "CN"}, tags=["vip"], consent={"email": True},
    )  # fmt: skip
    duplicate = app.register(name="王芳", emails=["wang.fang@example.cn", "fang@example.org"], phones=[])
    app.update_profile(survivor, expected_version=None, name="王芳芳", tags=["vip", "b2b"])
    app.update_profile(survivor, expected_version=None, address="")
    app.add_contact_point(survivor, expected_version=None, kind="phone", value="+86 139 1234 5678")
    app.remove_contact_point(survivor, expected_version=None, kind="phone", value="+8613912345678")
    app.record_interaction(
        survivor, expected_version=None, kind="call", summary="询问发票", occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        recorded_by="rep@example.com",
    )  # fmt: skip
    app.change_consent(survivor, expected_version=None, channel="sms", granted=True)
    app.merge(survivor_id=survivor, merged_id=duplicate)
    return app, survivor


def test_the_customer_events_on_kafka_are_as_recorded() -> None:
    app, survivor = customer_script()
    records = kafka_records(app, customer_public, "customer")
    head = app.recorder.max_notification_id() or 0
    app.erase(survivor)
    records += kafka_records(app, customer_public, "customer", start=head + 1)
    assert {r["headers"]["ce_type"] for r in records} == {e.event_type for e in customer_public_types()}
    matches_recording("events/customer", placeholders(records))


def customer_public_types() -> list[Any]:
    """The public event models the customer relay maps to (the newest version of each)."""
    return [public.CustomerRegisteredV2, public.CustomerProfileUpdatedV2, public.CustomerContactPointAddedV1,
            public.CustomerContactPointRemovedV1, public.CustomerInteractionRecordedV1,
            public.CustomerConsentChangedV1, public.CustomerMergedV1, public.CustomerDuplicateAbsorbedV1,
            public.CustomerErasedV1]  # fmt: skip


def test_the_sales_events_on_kafka_are_as_recorded() -> None:
    """A week of selling: a lead converted, a deal moved and won, a quote, an order paid and refunded, an import."""
    sales = SalesApplication()
    week(sales)
    matches_recording("events/sales", placeholders(kafka_records(sales, sales_relay.public_mapper(sales), "sales")))


def test_the_support_events_on_kafka_are_as_recorded(tmp_path: Path) -> None:
    """A ticket's life: opened into a queue, assigned, noted (private), replied, escalated, resolved, surveyed."""
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    app = SupportApplication(env=dict(persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "s.db")))),
                             clock=clock, signer=SurveySigner("s" * 40))  # fmt: skip
    queue = app.create_queue(name="配送", category="delivery", tier=1)
    app.set_member(queue, expected_version=None, agent="li@example.com", skills=[], cap=5)
    agent, customer = "li@example.com", UUID(int=7)
    ticket = app.open_ticket(customer_id=customer, channel="email", subject="快递还没到", description="三天了。",
                             category="delivery", priority="P2", opened_by=agent)  # fmt: skip
    app.add_note(ticket, expected_version=None, author="li@example.com", body="VIP")
    clock.advance(minutes=30)
    app.reply(ticket, expected_version=None, author="li@example.com", body="我们正在查询。")
    app.escalate(ticket, expected_version=None, reason="carrier claim", by="li@example.com")
    clock.advance(hours=2)
    app.change_status(ticket, expected_version=None, to="resolved", by="li@example.com")
    app.record_feedback(customer_id=customer, ticket_id=ticket, kind="praise", body="谢谢", recorded_by=agent)
    records = kafka_records(app, SupportPublisher(app), "support")
    assert len({r["headers"]["ce_type"] for r in records}) >= 6
    matches_recording("events/support", placeholders(records))


def test_the_marketing_events_on_kafka_are_as_recorded() -> None:
    """A campaign: created, scheduled, sent, opened, clicked, unsubscribed, spend recorded, completed."""
    app = MarketingApplication(clock=lambda: MARKETING_NOW)
    campaign_story(app)
    matches_recording("events/marketing", placeholders(kafka_records(app, to_public_for(app), "marketing")))


def test_the_social_events_on_kafka_are_as_recorded() -> None:
    """An account, a post published, a mention linked, assigned, replied, escalated, closed, and a merge."""
    clock = SocialClock()
    with make_social_app(clock, FakePlatform()) as app:
        whole_story(app, clock)
        matches_recording("events/social", placeholders(kafka_records(app, social_relay.public_mapper(app), "social")))
