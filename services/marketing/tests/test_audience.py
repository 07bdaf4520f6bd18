"""The audience kept from the customer stream: idempotent, erasure shreds, merges re-point suppressions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

from services.marketing.application import MarketingApplication
from services.marketing.consumers import handlers
from services.marketing.members import AudienceMember
from services.marketing.messages import message_id
from services.marketing.tests.conftest import NOW, web_customers
from shared.events import REGISTRY, EventEnvelope, PublicEvent
from shared.events import customer as c
from shared.platform.eventstore import EventStoreSettings, persistence_env


def deliver(app: MarketingApplication, *events: PublicEvent, times: int = 1) -> None:
    table = handlers(app)
    for event in events:
        envelope = EventEnvelope.wrap(
            event,
            source="/crm/customer",
            aggregate_id=uuid4(),
            aggregate_version=1,
            time=datetime(2026, 1, 1, tzinfo=UTC),
        )
        parsed = REGISTRY.parse(envelope)  # as EventConsumer does: v1 arrives upcast to v2
        for _ in range(times):
            table[type(parsed)](envelope, parsed)


def registered(cid: UUID, email: str, consent: bool = True) -> c.CustomerRegisteredV1:
    return c.CustomerRegisteredV1(
        customer_id=cid,
        name="王芳",
        emails=[email],
        phones=["+8613900000000"],
        source="web",
        tags=["vip"],
        consent={"email": consent},
    )


def test_redelivered_events_change_nothing(app: MarketingApplication) -> None:
    cid = uuid4()
    events = (
        registered(cid, "wf@example.cn", consent=False),
        c.CustomerConsentChangedV1(customer_id=cid, channel="email", granted=True),
        c.CustomerContactPointAddedV1(customer_id=cid, kind="email", value="wf2@example.cn"),
        c.CustomerProfileUpdatedV1(customer_id=cid, changed=["tags"], tags=["vip", "golf"]),
    )
    deliver(app, *events, times=2)
    member = app.view.member(cid)
    assert member is not None
    assert (member.emails, member.tags, member.consent["email"], member.country) == (
        ("wf@example.cn", "wf2@example.cn"),
        ("vip", "golf"),
        True,
        "CN",
    )
    assert app.repository.get(cid).version == 4


def test_an_erased_customer_leaves_the_audience_and_their_data_is_unreadable(tmp_path: Path) -> None:
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "m.sqlite")))
    app = MarketingApplication(env=env, clock=lambda: NOW)
    cid = uuid4()
    deliver(app, registered(cid, "gone@example.cn"))
    deliver(app, c.CustomerErasedV1(customer_id=cid), times=2)
    assert app.view.member(cid) is None
    reread = MarketingApplication(env=env)  # a fresh process replays the log without the key
    assert reread.view.member(cid) is None
    joined: AudienceMember = reread.repository.get(cid, version=1)
    assert (joined.name, joined.emails) == ("", [])


def test_segments_never_select_erased_or_merged_customers(app: MarketingApplication) -> None:
    keep, erased, merged = uuid4(), uuid4(), uuid4()
    deliver(
        app, registered(keep, "k@example.cn"), registered(erased, "e@example.cn"), registered(merged, "m@example.cn")
    )
    deliver(app, c.CustomerErasedV1(customer_id=erased), c.CustomerMergedV1(customer_id=merged, survivor_id=keep))
    segment = app.define_segment(name="web", description="", rules=web_customers(), by="m")
    assert [m.id for m in app.segment_members(segment.id)] == [keep]


def test_an_unsubscribe_follows_the_customer_into_the_survivor_of_a_merge(app: MarketingApplication) -> None:
    survivor, duplicate = uuid4(), uuid4()
    deliver(app, registered(survivor, "s@example.cn"), registered(duplicate, "d@example.cn"))
    segment = app.define_segment(name="web", description="", rules=web_customers(), by="m")
    campaign = app.create_campaign(
        name="c",
        channel="email",
        segment_id=segment.id,
        fallbacks={},
        by="m",
        variants=[{"name": "A", "weight": 1, "subject": "s", "html": "h"}],
    )
    app.prepare(campaign, duplicate, "A")
    app.unsubscribe(message_id(campaign.id, duplicate))
    deliver(
        app,
        c.CustomerMergedV1(customer_id=duplicate, survivor_id=survivor),
        c.CustomerDuplicateAbsorbedV1(
            customer_id=survivor, merged_id=duplicate, emails=["d@example.cn"], phones=[], tags=[]
        ),
    )
    assert app.view.reachable(survivor, "email") is None
    member = app.view.member(survivor)
    assert member is not None
    assert member.emails == ("s@example.cn", "d@example.cn")


def test_events_about_unknown_customers_are_ignored(app: MarketingApplication) -> None:
    deliver(app, c.CustomerConsentChangedV1(customer_id=uuid4(), channel="email", granted=True))
    assert app.view.audience() == []
