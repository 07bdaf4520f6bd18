"""A post on the content calendar: drafted, scheduled, published by the scheduler, or deleted.

Publishing is recorded in three steps so it happens at most once on the platform even if
the scheduler dies mid-way: `PublishAttempted` (with the post's idempotency key) before the
connector is called, then `Published` with the platform's post id, or `PublishAttemptFailed`
with when to retry. A post left "publishing" by a crash is retried with the same key, which
the platform deduplicates.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.social.domain import InvalidInput, InvalidState, text, utc

MAX_POST = 5000
MAX_ERROR = 500
EDITABLE = ("draft", "scheduled", "failed")


class Post(Aggregate):
    """One post of one connected account."""

    if TYPE_CHECKING:  # defined at runtime by the @event decorators
        Drafted: ClassVar[type[Aggregate.Event]]
        Edited: ClassVar[type[Aggregate.Event]]
        Scheduled: ClassVar[type[Aggregate.Event]]
        PublishAttempted: ClassVar[type[Aggregate.Event]]
        Published: ClassVar[type[Aggregate.Event]]
        PublishAttemptFailed: ClassVar[type[Aggregate.Event]]
        PublishFailed: ClassVar[type[Aggregate.Event]]
        Deleted: ClassVar[type[Aggregate.Event]]
        EngagementUpdated: ClassVar[type[Aggregate.Event]]

    @classmethod
    def draft(cls, *, account_id: UUID, body: str, created_by: str) -> Post:
        """A new draft."""
        return cls(account_id=account_id, text=text(body, "text", MAX_POST), created_by=created_by)

    @event("Drafted")
    def __init__(self, account_id: UUID, text: str, created_by: str) -> None:
        self.account_id = account_id
        self.text = text
        self.created_by = created_by
        self.status = "draft"
        self.scheduled_for: datetime | None = None
        self.next_attempt_at: datetime | None = None
        self.attempts = 0
        self.platform_post_id: str | None = None
        self.published_at: datetime | None = None
        self.last_error: str | None = None
        self.engagement = {"likes": 0, "comments": 0, "shares": 0}
        self.measured_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        """Sent with every publish attempt of this post: the platform creates it once."""
        return f"post-{self.id}"

    def edit(self, body: str) -> None:
        """Change the text of a post not yet published."""
        self._ensure(EDITABLE, "edited")
        self._edit(text=text(body, "text", MAX_POST))

    @event("Edited")
    def _edit(self, text: str) -> None:
        self.text = text

    def schedule(self, when: datetime, now: datetime) -> None:
        """Schedule (or reschedule) publication; a failed post can be scheduled again."""
        self._ensure(EDITABLE, "scheduled")
        moment = utc(when, "scheduled_for")
        if moment < now - timedelta(minutes=1):
            raise InvalidInput("scheduled_for must not be in the past")
        self._schedule(scheduled_for=moment)

    @event("Scheduled")
    def _schedule(self, scheduled_for: datetime) -> None:
        self.status = "scheduled"
        self.scheduled_for = scheduled_for
        self.next_attempt_at = scheduled_for
        self.attempts = 0
        self.last_error = None

    def is_due(self, now: datetime) -> bool:
        """Scheduled and its time has come, or left mid-publish by a crash."""
        if self.status == "publishing":
            return True
        return self.status == "scheduled" and self.next_attempt_at is not None and self.next_attempt_at <= now

    def begin_attempt(self, now: datetime) -> str:
        """Record an attempt before calling the connector; returns the idempotency key to send."""
        if not self.is_due(now):
            raise InvalidState(f"post {self.id} is {self.status}, not due for publishing")
        self._attempt(attempt=self.attempts + 1, idempotency_key=self.idempotency_key, at=now)
        return self.idempotency_key

    @event("PublishAttempted")
    def _attempt(self, attempt: int, idempotency_key: str, at: datetime) -> None:
        self.status = "publishing"
        self.attempts = attempt

    def mark_published(self, platform_post_id: str, now: datetime) -> None:
        """Record the platform's id of the post; the post is live."""
        self._ensure(("publishing",), "marked published")
        self._published(platform_post_id=text(platform_post_id, "platform post id", 200), published_at=now)

    @event("Published")
    def _published(self, platform_post_id: str, published_at: datetime) -> None:
        self.status = "published"
        self.platform_post_id = platform_post_id
        self.published_at = published_at
        self.next_attempt_at = None

    def mark_attempt_failed(self, error: str, now: datetime, *, max_attempts: int, backoff: timedelta) -> None:
        """Retry later with exponential backoff, or give up after `max_attempts`."""
        self._ensure(("publishing",), "marked failed")
        reason = (error or "unknown error")[:MAX_ERROR]
        if self.attempts >= max_attempts:
            self._publish_failed(error=reason, failed_at=now)
        else:
            self._attempt_failed(error=reason, retry_at=now + backoff * 2 ** (self.attempts - 1))

    @event("PublishAttemptFailed")
    def _attempt_failed(self, error: str, retry_at: datetime) -> None:
        self.status = "scheduled"
        self.last_error = error
        self.next_attempt_at = retry_at

    @event("PublishFailed")
    def _publish_failed(self, error: str, failed_at: datetime) -> None:
        self.status = "failed"
        self.last_error = error
        self.next_attempt_at = None

    def delete(self) -> None:
        """Take the post off the calendar (a post being published must finish first)."""
        if self.status == "deleted":
            return
        self._ensure(("draft", "scheduled", "failed", "published"), "deleted")
        self._delete()

    @event("Deleted")
    def _delete(self) -> None:
        self.status = "deleted"
        self.next_attempt_at = None

    def update_engagement(self, likes: int, comments: int, shares: int, measured_at: datetime) -> bool:
        """Take newer totals from a metrics delivery; older or unchanged ones record nothing."""
        counts = {"likes": likes, "comments": comments, "shares": shares}
        if any(not isinstance(v, int) or v < 0 for v in counts.values()):
            raise InvalidInput("likes, comments and shares must be non-negative integers")
        moment = utc(measured_at, "measured_at")
        if (self.measured_at is not None and moment <= self.measured_at) or counts == self.engagement:
            return False
        self._engagement(likes=likes, comments=comments, shares=shares, measured_at=moment)
        return True

    @event("EngagementUpdated")
    def _engagement(self, likes: int, comments: int, shares: int, measured_at: datetime) -> None:
        self.engagement = {"likes": likes, "comments": comments, "shares": shares}
        self.measured_at = measured_at

    def _ensure(self, allowed: tuple[str, ...], action: str) -> None:
        if self.status not in allowed:
            raise InvalidState(f"post {self.id} is {self.status} and cannot be {action}")
