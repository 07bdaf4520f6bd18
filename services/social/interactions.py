"""An interaction from the inbox: a comment, direct message or mention, and the work done on it.

Its id is derived from the account and the platform's interaction id, so a delivery that
arrives twice finds the interaction already stored. Events that the relay turns into
customer-keyed public events (`Linked`, `Escalated`) carry a copy of what subscribers
need, because the relay maps one event at a time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.social.domain import InvalidInput, InvalidState, text

KINDS = ("comment", "direct_message", "mention")
PRIORITIES = ("P1", "P2", "P3", "P4")
LINK_METHODS = ("manual", "handle", "email")
MAX_TEXT = 10_000
MAX_REASON = 1000

PII_FIELDS: dict[str, tuple[str, ...]] = {
    "Interaction.Received": ("author_handle", "author_name", "author_email", "text", "permalink"),
    "Interaction.Linked": ("author_handle", "text"),
    "Interaction.Escalated": ("author_handle", "text", "permalink"),
}
"""What the author wrote and who they are: sealed with the interaction's own key, shredded on erasure."""


class Interaction(Aggregate):
    """One inbound comment, DM or mention on a connected account."""

    if TYPE_CHECKING:  # defined at runtime by the @event decorators
        Received: ClassVar[type[Aggregate.Event]]
        Linked: ClassVar[type[Aggregate.Event]]
        Unlinked: ClassVar[type[Aggregate.Event]]
        Assigned: ClassVar[type[Aggregate.Event]]
        Replied: ClassVar[type[Aggregate.Event]]
        Closed: ClassVar[type[Aggregate.Event]]
        Escalated: ClassVar[type[Aggregate.Event]]
        Erased: ClassVar[type[Aggregate.Event]]

    @event("Received")
    def __init__(
        self,
        account_id: UUID,
        platform: str,
        platform_interaction_id: str,
        kind: str,
        author_handle: str,
        author_name: str | None,
        author_email: str | None,
        text: str,
        sentiment: str,
        sentiment_score: float,
        occurred_at: datetime,
        platform_post_id: str | None,
        post_id: UUID | None,
        permalink: str | None,
        id: UUID | None = None,
    ) -> None:
        self.account_id = account_id
        self.platform = platform
        self.platform_interaction_id = platform_interaction_id
        self.kind = kind
        self.author_handle = author_handle
        self.author_name = author_name
        self.author_email = author_email
        self.text = text
        self.sentiment = sentiment
        self.sentiment_score = sentiment_score
        self.occurred_at = occurred_at
        self.platform_post_id = platform_post_id
        self.post_id = post_id
        self.permalink = permalink
        self.status = "open"
        self.customer_id: UUID | None = None
        self.link_method: str | None = None
        self.assignee: str | None = None
        self.replies: list[dict[str, Any]] = []
        self.escalation: dict[str, Any] | None = None
        self.erased = False

    def link(self, customer_id: UUID, method: str, linked_by: str) -> bool:
        """Attribute the interaction to a customer; the same link again records nothing."""
        if method not in LINK_METHODS:
            raise InvalidInput(f"link method must be one of {LINK_METHODS}")
        self._ensure_not_erased()
        if self.customer_id == customer_id:
            return False
        if self.customer_id is not None:
            self.unlink(linked_by)
        self._link(
            customer_id=customer_id,
            method=method,
            linked_by=linked_by,
            account_id=self.account_id,
            platform=self.platform,
            kind=self.kind,
            author_handle=self.author_handle,
            text=self.text,
            sentiment=self.sentiment,
            occurred_at=self.occurred_at,
        )
        return True

    @event("Linked")
    def _link(  # carries what the public event needs
        self,
        customer_id: UUID,
        method: str,
        linked_by: str,
        account_id: UUID,
        platform: str,
        kind: str,
        author_handle: str,
        text: str,
        sentiment: str,
        occurred_at: datetime,
    ) -> None:
        self.customer_id = customer_id
        self.link_method = method

    def unlink(self, unlinked_by: str) -> None:
        """Stop attributing it to its customer (a wrong match)."""
        if self.customer_id is None:
            raise InvalidState(f"interaction {self.id} is not linked to a customer")
        self._unlink(customer_id=self.customer_id, unlinked_by=unlinked_by)

    @event("Unlinked")
    def _unlink(self, customer_id: UUID, unlinked_by: str) -> None:
        self.customer_id = None
        self.link_method = None

    def assign(self, assignee: str, assigned_by: str) -> None:
        """Give it to a team member (assigning to the current assignee records nothing)."""
        self._ensure_open()
        who = text(assignee, "assignee", 320)
        if who != self.assignee:
            self._assign(assignee=who, assigned_by=assigned_by)

    @event("Assigned")
    def _assign(self, assignee: str, assigned_by: str) -> None:
        self.assignee = assignee

    def check_reply(self, body: str) -> str:
        """The reply's text, if a reply may be sent now (before the connector is called)."""
        self._ensure_open()
        return text(body, "text", MAX_TEXT)

    @event("Replied")
    def record_reply(self, reply_id: str, platform_reply_id: str, replied_by: str, replied_at: datetime) -> None:
        """Record a reply the connector confirmed."""
        self.replies.append({"id": reply_id, "platform_reply_id": platform_reply_id, "by": replied_by})

    def close(self, closed_by: str) -> None:
        """Nothing more to do; closing twice is harmless."""
        if self.status != "closed":
            self._close(closed_by=closed_by)

    @event("Closed")
    def _close(self, closed_by: str) -> None:
        self.status = "closed"

    def escalate(self, priority: str, reason: str, escalated_by: str, now: datetime) -> None:
        """Ask support to open a ticket; needs a linked customer, and happens once."""
        self._ensure_not_erased()
        if self.customer_id is None:
            raise InvalidState("link the interaction to a customer before escalating it")
        if self.escalation is not None:
            raise InvalidState(f"interaction {self.id} was already escalated")
        if priority not in PRIORITIES:
            raise InvalidInput(f"priority must be one of {PRIORITIES}")
        self._escalate(
            customer_id=self.customer_id,
            priority=priority,
            reason=text(reason, "reason", MAX_REASON),
            escalated_by=escalated_by,
            escalated_at=now,
            account_id=self.account_id,
            platform=self.platform,
            kind=self.kind,
            author_handle=self.author_handle,
            text=self.text,
            sentiment=self.sentiment,
            permalink=self.permalink,
        )

    @event("Escalated")
    def _escalate(  # carries what the public event needs
        self,
        customer_id: UUID,
        priority: str,
        reason: str,
        escalated_by: str,
        escalated_at: datetime,
        account_id: UUID,
        platform: str,
        kind: str,
        author_handle: str,
        text: str,
        sentiment: str,
        permalink: str | None,
    ) -> None:
        self.escalation = {"priority": priority, "reason": reason, "by": escalated_by}
        self.status = "escalated" if self.status == "open" else self.status

    def erase(self) -> None:
        """Forget the author's personal data (their customer was erased); idempotent."""
        if not self.erased:
            self._erase()

    @event("Erased")
    def _erase(self) -> None:
        self.author_handle = ""
        self.author_name = None
        self.author_email = None
        self.text = ""
        self.permalink = None
        self.erased = True

    def _ensure_open(self) -> None:
        self._ensure_not_erased()
        if self.status == "closed":
            raise InvalidState(f"interaction {self.id} is closed")

    def _ensure_not_erased(self) -> None:
        if self.erased:
            raise InvalidState(f"interaction {self.id} was erased")
