"""The relay's mapping: every domain event has an explicit public (or private) mapping."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from services.social import relay
from services.social.accounts import Account
from services.social.application import SocialApplication
from services.social.deliveries import Delivery
from services.social.identities import Identity, KnownCustomer
from services.social.inbox import Inbox
from services.social.interactions import Interaction
from services.social.lifecycle import CustomerLifecycle
from services.social.posts import Post
from services.social.scheduler import Scheduler
from services.social.tests.conftest import Clock, FakePlatform, connect, mention
from shared.events import PublicEvent
from shared.events import social as public
from shared.platform import outbox


def domain_event_classes() -> set[type[Any]]:
    return outbox.domain_event_classes(Account, Post, Interaction, Delivery, Identity, KnownCustomer)


def test_every_domain_event_is_mapped(app: SocialApplication) -> None:
    assert set(relay.mapping(app)) == domain_event_classes()


def published(app: SocialApplication) -> list[PublicEvent]:
    to_public = relay.public_mapper(app)
    events = [to_public(app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(start=1, limit=1000)]
    return [e for e in events if e is not None]


def whole_story(app: SocialApplication, clock: Clock) -> tuple[Any, UUID]:
    """An account connected, a post published, a mention linked, assigned, replied, escalated, closed, merged."""
    inbox = Inbox(app)
    account = app.load(Account, connect(app))
    post = app.draft_post(account.id, text="新品", created_by="m@example.com", scheduled_for=clock.now)
    Scheduler(app).run_once()
    interaction_id, _ = inbox.receive(account, "d-1", mention(platform_post_id="p-1"))
    customer = uuid4()
    inbox.link(interaction_id, customer, by="agent@example.com", expected_version=None)
    inbox.assign(interaction_id, assignee="li.na@example.com", by="lead@example.com", expected_version=None)
    inbox.reply(interaction_id, body="抱歉", by="li.na@example.com", expected_version=None)
    inbox.escalate(interaction_id, priority="P2", reason="late", by="li.na@example.com", expected_version=None)
    inbox.close(interaction_id, by="li.na@example.com", expected_version=None)
    CustomerLifecycle(inbox).merged(customer, uuid4())
    return post, customer


def test_a_whole_story_maps_to_valid_public_events(
    app: SocialApplication, clock: Clock, platform: FakePlatform
) -> None:
    post, customer = whole_story(app, clock)
    events = published(app)
    kinds = [type(e) for e in events]
    assert kinds[:4] == [
        public.AccountConnectedV1,
        public.PostDraftedV1,
        public.PostScheduledV1,
        public.PostPublishedV1,
    ]
    received = next(e for e in events if isinstance(e, public.InteractionReceivedV1))
    assert "text" not in received.model_dump(), "no personal data before the customer is known"
    assert received.sentiment == "negative"
    linked = next(e for e in events if isinstance(e, public.InteractionLinkedToCustomerV1))
    assert (linked.customer_id, linked.text, linked.method) == (customer, "客服太慢了，订单还没到！", "manual")
    escalated = next(e for e in events if isinstance(e, public.InteractionEscalatedV1))
    assert (escalated.customer_id, escalated.priority, escalated.sentiment) == (customer, "P2", "negative")
    assert isinstance(events[-1], public.InteractionLinkedToCustomerV1), "a merge re-links to the survivor"
    assert isinstance(events[-2], public.InteractionUnlinkedFromCustomerV1)
    publish = next(e for e in events if isinstance(e, public.PostPublishedV1))
    assert (publish.post_id, publish.platform_post_id, publish.attempts) == (post.id, "p-1", 1)
    assert not any("tok-secret" in e.model_dump_json() for e in events), "credentials never leave"
