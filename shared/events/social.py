"""Public events of the social service on `crm.social.v1` (social media management).

This module starts with the events other services consume; the social service adds
the rest of its stream here. `InteractionEscalatedV1` is choreography: the support
service opens one ticket per escalated interaction, idempotently.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from shared.events import topics
from shared.events.base import CustomerKeyedEvent, PublicEvent
from shared.events.timestamps import IsoDateTime

InteractionKind = Literal["comment", "direct_message", "mention"]
Sentiment = Literal["positive", "neutral", "negative"]
Priority = Literal["P1", "P2", "P3", "P4"]
LinkMethod = Literal["manual", "handle", "email"]


class SocialEvent(PublicEvent):
    """Base of the social stream's events that are not about one customer (accounts, posts)."""

    topic = topics.SOCIAL


class SocialCustomerEvent(CustomerKeyedEvent):
    """Base of the social stream's events about one customer."""

    topic = topics.SOCIAL


class InteractionEscalatedV1(SocialCustomerEvent):
    """A social interaction of a known customer needs support; the support service opens a ticket for it."""

    event_type = "crm.social.interaction_escalated.v1"

    interaction_id: UUID
    account_id: UUID = Field(description="The connected account the interaction arrived on.")
    platform: str = Field(description="Platform name, e.g. weibo, x, wechat.")
    kind: InteractionKind
    author_handle: str
    text: str = Field(description="What the customer wrote, in any language.")
    sentiment: Sentiment
    priority: Priority = Field(description="Ticket priority the escalating agent asks for.")
    reason: str = Field(description="Why it was escalated.")
    escalated_by: str = Field(description="Subject of the user who escalated it.")
    escalated_at: IsoDateTime
    permalink: str | None = None


class AccountConnectedV1(SocialEvent):
    """A social media account was connected (credentials stay encrypted inside the social service)."""

    event_type = "crm.social.account_connected.v1"

    account_id: UUID
    platform: str = Field(description="Platform name, e.g. weibo, x, wechat.")
    handle: str = Field(description="The brand's own handle on the platform.")
    connector: str = Field(description="Connector plug-in that talks to the platform, e.g. generic_http.")


class AccountDisconnectedV1(SocialEvent):
    """A connected account was disconnected: no more posts, replies or webhooks through it."""

    event_type = "crm.social.account_disconnected.v1"

    account_id: UUID


class PostDraftedV1(SocialEvent):
    """A post was drafted for a connected account."""

    event_type = "crm.social.post_drafted.v1"

    post_id: UUID
    account_id: UUID
    text: str = Field(description="The post's text, in any language.")
    created_by: str = Field(description="Subject of the user who drafted it.")


class PostScheduledV1(SocialEvent):
    """A post was scheduled (or rescheduled) to be published at `scheduled_for`."""

    event_type = "crm.social.post_scheduled.v1"

    post_id: UUID
    account_id: UUID
    scheduled_for: IsoDateTime


class PostPublishedV1(SocialEvent):
    """The scheduler published the post through the account's connector."""

    event_type = "crm.social.post_published.v1"

    post_id: UUID
    account_id: UUID
    platform_post_id: str = Field(description="The post's id on the platform.")
    published_at: IsoDateTime
    attempts: int = Field(ge=1, description="Publish attempts it took, this one included.")


class PostPublishFailedV1(SocialEvent):
    """Every publish attempt failed; the post is not on the platform and needs a person."""

    event_type = "crm.social.post_publish_failed.v1"

    post_id: UUID
    account_id: UUID
    attempts: int = Field(ge=1)
    error: str = Field(description="What the last attempt reported.")
    failed_at: IsoDateTime


class PostDeletedV1(SocialEvent):
    """A post was deleted from the content calendar."""

    event_type = "crm.social.post_deleted.v1"

    post_id: UUID
    account_id: UUID


class PostEngagementUpdatedV1(SocialEvent):
    """New engagement totals of a published post, from the platform's metrics delivery."""

    event_type = "crm.social.post_engagement_updated.v1"

    post_id: UUID
    account_id: UUID
    likes: int = Field(ge=0)
    comments: int = Field(ge=0)
    shares: int = Field(ge=0)
    measured_at: IsoDateTime


class InteractionReceivedV1(SocialEvent):
    """A comment, direct message or mention arrived through a signed webhook.

    It carries no text or author: until linked to a customer, nobody could erase them from
    subscribers; `InteractionLinkedToCustomerV1` carries them once the customer is known.
    """

    event_type = "crm.social.interaction_received.v1"

    interaction_id: UUID
    account_id: UUID
    platform: str
    kind: InteractionKind
    sentiment: Sentiment
    occurred_at: IsoDateTime


class InteractionLinkedToCustomerV1(SocialCustomerEvent):
    """An interaction's author was identified as this customer (by hand, known handle or email)."""

    event_type = "crm.social.interaction_linked_to_customer.v1"

    interaction_id: UUID
    account_id: UUID
    platform: str
    kind: InteractionKind
    author_handle: str
    text: str = Field(description="What the customer wrote, in any language.")
    sentiment: Sentiment
    occurred_at: IsoDateTime
    method: LinkMethod = Field(description="manual, or automatic by a known handle or email.")
    linked_by: str = Field(description="Subject of the user who linked it, or `social-identity` when automatic.")


class InteractionUnlinkedFromCustomerV1(SocialCustomerEvent):
    """An interaction is no longer attributed to this customer (wrong match, or the customer was merged)."""

    event_type = "crm.social.interaction_unlinked_from_customer.v1"

    interaction_id: UUID


class InteractionAssignedV1(SocialEvent):
    """An interaction was assigned to a community team member."""

    event_type = "crm.social.interaction_assigned.v1"

    interaction_id: UUID
    assignee: str = Field(description="Subject (email) of the user now working it.")
    assigned_by: str


class InteractionRepliedV1(SocialEvent):
    """The team replied to an interaction through the account's connector."""

    event_type = "crm.social.interaction_replied.v1"

    interaction_id: UUID
    platform_reply_id: str
    replied_by: str
    replied_at: IsoDateTime


class InteractionClosedV1(SocialEvent):
    """An interaction needs no more work."""

    event_type = "crm.social.interaction_closed.v1"

    interaction_id: UUID
    closed_by: str


EVENTS: tuple[type[PublicEvent], ...] = (
    AccountConnectedV1,
    AccountDisconnectedV1,
    PostDraftedV1,
    PostScheduledV1,
    PostPublishedV1,
    PostPublishFailedV1,
    PostDeletedV1,
    PostEngagementUpdatedV1,
    InteractionReceivedV1,
    InteractionLinkedToCustomerV1,
    InteractionUnlinkedFromCustomerV1,
    InteractionAssignedV1,
    InteractionRepliedV1,
    InteractionClosedV1,
    InteractionEscalatedV1,
)
