"""Request and response bodies of the social API, split by role (create, update, public)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.social.accounts import Account
from services.social.interactions import Interaction
from services.social.posts import Post
from shared.events.timestamps import IsoDateTime
from shared.platform.masking import mask_name

InteractionKind = Literal["comment", "direct_message", "mention"]
SentimentLabel = Literal["positive", "neutral", "negative"]
Priority = Literal["P1", "P2", "P3", "P4"]
PostStatus = Literal["draft", "scheduled", "publishing", "published", "failed", "deleted"]
InteractionStatus = Literal["open", "escalated", "closed"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Versioned(_Body):
    """Optimistic concurrency: the version the caller decided on (409 if it moved on)."""

    expected_version: int | None = Field(default=None, ge=1, description="Omit to skip the check.")


class Ref(BaseModel):
    """A record's id and its version after the command."""

    id: UUID
    version: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such account, post or interaction"},
    409: {"description": "Stale `expected_version`, or a rule of the record's state"},
}


class AccountCreate(_Body):
    """A social media account to connect; credentials are encrypted at rest and never returned."""

    platform: str = Field(min_length=1, max_length=40, examples=["weibo"])
    handle: str = Field(min_length=1, max_length=100, examples=["@acme_cn"])
    connector: str = Field(default="generic_http", description="Connector plug-in name.", examples=["generic_http"])
    endpoint_url: str = Field(
        max_length=500, description="Base URL the connector calls.", examples=["https://gw.example/weibo"]
    )
    credentials: dict[str, str] = Field(
        default_factory=dict, max_length=20, description="e.g. an API `token`.", examples=[{"token": "s3cr3t"}]
    )


class SecretRotation(Versioned):
    """Rotate the webhook secret; give `credentials` to replace them too (e.g. a new API token)."""

    credentials: dict[str, str] | None = Field(default=None, max_length=20, examples=[{"token": "n3w-t0k3n"}])


class AccountPublic(BaseModel):
    """A connected account, without its credentials."""

    id: UUID
    version: int
    platform: str
    handle: str
    connector: str
    endpoint_url: str
    connected: bool
    webhook_path: str = Field(description="Where the platform posts signed deliveries.")

    @classmethod
    def of(cls, account: Account) -> AccountPublic:
        """The public view of `account`."""
        return cls(
            id=account.id,
            version=account.version,
            platform=account.platform,
            handle=account.handle,
            connector=account.connector,
            endpoint_url=account.endpoint_url,
            connected=account.connected,
            webhook_path=f"/webhooks/{account.id}",
        )


class AccountConnected(AccountPublic):
    """The connected account and its webhook secret: shown this once, give it to the platform."""

    webhook_secret: str


class PostCreate(_Body):
    """A post to draft, scheduled at once when `scheduled_for` is given."""

    account_id: UUID
    text: str = Field(min_length=1, max_length=5000, examples=["春季新品上市！Spring collection is here."])
    scheduled_for: IsoDateTime | None = Field(default=None, examples=["2026-03-03T09:00:00+08:00"])


class PostUpdate(Versioned):
    """New text of an unpublished post."""

    text: str = Field(min_length=1, max_length=5000)


class PostSchedule(Versioned):
    """When to publish (timezone required)."""

    scheduled_for: IsoDateTime


class Engagement(BaseModel):
    """Latest totals from the platform's metrics deliveries."""

    likes: int
    comments: int
    shares: int
    measured_at: datetime | None


class PostPublic(BaseModel):
    """A post of the content calendar."""

    id: UUID
    version: int
    account_id: UUID
    text: str
    status: PostStatus
    created_by: str
    scheduled_for: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    last_error: str | None
    platform_post_id: str | None
    published_at: datetime | None
    engagement: Engagement

    @classmethod
    def of(cls, post: Post) -> PostPublic:
        """The public view of `post`."""
        return cls(
            id=post.id,
            version=post.version,
            account_id=post.account_id,
            text=post.text,
            status=post.status,
            created_by=post.created_by,
            scheduled_for=post.scheduled_for,
            next_attempt_at=post.next_attempt_at,
            attempts=post.attempts,
            last_error=post.last_error,
            platform_post_id=post.platform_post_id,
            published_at=post.published_at,
            engagement=Engagement(**post.engagement, measured_at=post.measured_at),
        )


class InteractionPublic(BaseModel):
    """An interaction of the inbox (author and text masked for analysts)."""

    id: UUID
    version: int
    account_id: UUID
    platform: str
    platform_interaction_id: str
    kind: InteractionKind
    author_handle: str
    author_name: str | None
    text: str
    sentiment: SentimentLabel
    sentiment_score: float
    occurred_at: datetime
    status: InteractionStatus
    customer_id: UUID | None
    link_method: str | None
    assignee: str | None
    replies: int
    escalated: bool
    post_id: UUID | None
    permalink: str | None

    @classmethod
    def of(cls, i: Interaction, *, masked: bool = False) -> InteractionPublic:
        """The public view of `i`; `masked` hides who wrote what."""
        return cls(
            id=i.id,
            version=i.version,
            account_id=i.account_id,
            platform=i.platform,
            platform_interaction_id=i.platform_interaction_id,
            kind=i.kind,
            author_handle=mask_name(i.author_handle) or "" if masked else i.author_handle,
            author_name=mask_name(i.author_name) if masked else i.author_name,
            text="***" if masked and i.text else i.text,
            sentiment=i.sentiment,
            sentiment_score=i.sentiment_score,
            occurred_at=i.occurred_at,
            status=i.status,
            customer_id=i.customer_id,
            link_method=i.link_method,
            assignee=i.assignee,
            replies=len(i.replies),
            escalated=i.escalation is not None,
            post_id=i.post_id,
            permalink=None if masked else i.permalink,
        )


class LinkRequest(Versioned):
    """The customer the interaction's author is."""

    customer_id: UUID


class AssignRequest(Versioned):
    """Who works the interaction now."""

    assignee: str = Field(min_length=1, max_length=320, examples=["li.na@example.com"])


class ReplyRequest(Versioned):
    """A public reply (or DM answer) sent through the account's connector."""

    text: str = Field(min_length=1, max_length=10_000, examples=["很抱歉给您带来不便，我们马上处理。"])


class EscalateRequest(Versioned):
    """Ask support to open a ticket for a linked interaction."""

    priority: Priority = "P3"
    reason: str = Field(min_length=1, max_length=1000, examples=["late delivery complaint"])
