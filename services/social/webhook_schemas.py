"""The body of a signed webhook delivery: one interaction or one metrics update per delivery."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events.timestamps import IsoDateTime


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)  # platforms add fields over time


class Author(_Strict):
    """Who wrote it, as the platform knows them."""

    handle: str = Field(min_length=1, max_length=100, examples=["@wang_fang"])
    name: str | None = Field(default=None, max_length=200, examples=["王芳"])
    email: str | None = Field(default=None, max_length=320, description="When the platform shares it (e.g. DMs).")


class InteractionItem(_Strict):
    """A comment, direct message or mention."""

    type: Literal["comment", "direct_message", "mention"]
    id: str = Field(min_length=1, max_length=200, description="The platform's id: a redelivery is stored once.")
    author: Author
    text: str = Field(min_length=1, max_length=10_000)
    occurred_at: IsoDateTime
    post_id: str | None = Field(default=None, max_length=200, description="Platform id of the post commented on.")
    permalink: str | None = Field(default=None, max_length=1000)


class MetricsItem(_Strict):
    """Engagement totals of one of our published posts."""

    type: Literal["metrics"]
    post_id: str = Field(min_length=1, max_length=200, description="Platform id of our post.")
    likes: int = Field(ge=0)
    comments: int = Field(ge=0)
    shares: int = Field(ge=0)
    measured_at: IsoDateTime


class WebhookDelivery(_Strict):
    """One signed delivery; `delivery_id` is unique per delivery (a replay of it is refused)."""

    delivery_id: str = Field(min_length=1, max_length=200, examples=["dlv-20260303-0001"])
    event: Annotated[InteractionItem | MetricsItem, Field(discriminator="type")]


class WebhookAccepted(BaseModel):
    """What the delivery did."""

    outcome: Literal["stored", "duplicate", "metrics_updated"]
    interaction_id: UUID | None = None
    post_id: UUID | None = None
