"""Public events of the social service on `crm.social.v1` (social media management).

This module starts with the events other services consume; the social service adds
the rest of its stream here. `InteractionEscalatedV1` is choreography: the support
service opens one ticket per escalated interaction, idempotently.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events import topics
from shared.events.base import CustomerKeyedEvent, PublicEvent

InteractionKind = Literal["comment", "direct_message", "mention"]
Sentiment = Literal["positive", "neutral", "negative"]
Priority = Literal["P1", "P2", "P3", "P4"]


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
    escalated_at: AwareDatetime
    permalink: str | None = None


EVENTS: tuple[type[PublicEvent], ...] = (InteractionEscalatedV1,)
