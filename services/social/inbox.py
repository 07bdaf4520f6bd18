"""The inbox: signed deliveries in, identity resolution, and the team's work on interactions.

Every delivery is recorded once (`Delivery`), in the same atomic save as what it brought,
so a replay is refused and a redelivered interaction is stored once. Interactions link
themselves to a customer when their author's handle is known or their email matches a
customer of the customer stream; agents link, unlink, assign, reply, close and escalate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.social import sentiment
from services.social.accounts import Account
from services.social.application import SocialApplication
from services.social.deliveries import Delivery, delivery_id
from services.social.domain import InvalidInput, NotFound, ReplayedDelivery, StaleVersion, derived_id, text, utc
from services.social.identities import Identity, identity_id
from services.social.interactions import KINDS, MAX_TEXT, Interaction
from shared.platform.concurrency import retries_race

AUTOMATIC = "social-identity"
"""`linked_by` of links the service made itself."""


@dataclass(frozen=True)
class Inbound:
    """One comment, DM or mention as a platform delivered it."""

    platform_interaction_id: str
    kind: str
    author_handle: str
    text: str
    occurred_at: datetime
    author_name: str | None = None
    author_email: str | None = None
    platform_post_id: str | None = None
    permalink: str | None = None


@dataclass(frozen=True)
class Metrics:
    """Engagement totals of one published post, as a platform delivered them."""

    platform_post_id: str
    likes: int
    comments: int
    shares: int
    measured_at: datetime


class Inbox:
    """Commands on the inbox, over the social application."""

    def __init__(self, app: SocialApplication) -> None:
        self.app = app

    def receive(self, account: Account, delivery: str, item: Inbound) -> tuple[UUID, bool]:
        """Store a delivered interaction once; returns its id and whether it was new."""
        account.ensure_connected()
        interaction_id = derived_id("interaction", account.id, item.platform_interaction_id)
        receipt = self._receipt(account, delivery, "interaction")
        if self.app.find(Interaction, interaction_id) is None:
            try:
                self._save_delivery(receipt, self._interaction(account, interaction_id, item))
            except IntegrityError:
                pass  # a concurrent delivery of the same interaction stored it first
            else:
                self.auto_link(interaction_id)
                return interaction_id, True
        self._save_delivery(receipt)
        return interaction_id, False

    def receive_metrics(self, account: Account, delivery: str, metrics: Metrics) -> UUID:
        """Take a post's newer engagement totals; returns our post id."""
        account.ensure_connected()
        post_id = self.app.views.post_by_platform_id(account.id, metrics.platform_post_id)
        if post_id is None:
            raise NotFound("post with platform id", metrics.platform_post_id)
        post = self.app.record_engagement(
            post_id, likes=metrics.likes, comments=metrics.comments, shares=metrics.shares, at=metrics.measured_at
        )
        self._save_delivery(self._receipt(account, delivery, "metrics"), post)
        return post_id

    def auto_link(self, interaction_id: UUID) -> bool:
        """Link to the customer whose handle or email the author has; True if it linked."""
        interaction = self.app.load(Interaction, interaction_id)
        if interaction.customer_id is not None or interaction.erased:
            return False
        identity = self.app.find(Identity, identity_id(interaction.platform, interaction.author_handle))
        if identity is not None and identity.customer_id is not None:
            interaction.link(identity.customer_id, "handle", AUTOMATIC)
        elif interaction.author_email and (customer := self.app.views.customer_by_email(interaction.author_email)):
            interaction.link(customer, "email", AUTOMATIC)
        else:
            return False
        self.app.commit(interaction)
        return True

    def link(self, interaction_id: UUID, customer_id: UUID, *, by: str, expected_version: int | None) -> int:
        """Link by hand; the handle is remembered, and the author's other unlinked interactions follow."""
        interaction = self.app.load(Interaction, interaction_id, expected_version)
        interaction.link(customer_id, "manual", by)
        identity = self._identity(interaction, customer_id)
        version = self.app.commit(interaction, identity)
        for other in self.app.views.unlinked_by_handle(interaction.platform, interaction.author_handle):
            self.auto_link(other)
        return version

    @retries_race(StaleVersion)
    def unlink(self, interaction_id: UUID, *, by: str, expected_version: int | None) -> int:
        """Undo a wrong link; the handle is no longer taken as that customer's."""
        interaction = self.app.load(Interaction, interaction_id, expected_version)
        customer_id = interaction.customer_id
        interaction.unlink(by)
        identity = self.app.find(Identity, identity_id(interaction.platform, interaction.author_handle))
        if identity is not None and identity.customer_id == customer_id:
            identity.forget()
            return self.app.commit(interaction, identity)
        return self.app.commit(interaction)

    @retries_race(StaleVersion)
    def assign(self, interaction_id: UUID, *, assignee: str, by: str, expected_version: int | None) -> int:
        """Give the interaction to a team member."""
        interaction = self.app.load(Interaction, interaction_id, expected_version)
        interaction.assign(assignee, by)
        return self.app.commit(interaction)

    def reply(self, interaction_id: UUID, *, body: str, by: str, expected_version: int | None) -> int:
        """Reply through the account's connector, then record the reply.

        Not `retries_race`: a race lost after the platform took the reply would send it again.

        The idempotency key is derived from the interaction's version: two agents replying
        to the same version send the same key, and the platform keeps one reply.
        """
        interaction = self.app.load(Interaction, interaction_id, expected_version)
        reply_text = interaction.check_reply(body)
        account = self.app.load(Account, interaction.account_id)
        account.ensure_connected()
        reply_id = derived_id("reply", interaction.id, interaction.version)
        connector = self.app.connectors.get(account.connector)
        channel = self.app.channel(account)
        platform_reply_id = connector.reply(channel, interaction.platform_interaction_id, reply_text, str(reply_id))
        interaction.record_reply(
            reply_id=str(reply_id), platform_reply_id=platform_reply_id, replied_by=by, replied_at=self.app.clock()
        )
        return self.app.commit(interaction)

    @retries_race(StaleVersion)
    def close(self, interaction_id: UUID, *, by: str, expected_version: int | None) -> int:
        """Close the interaction."""
        interaction = self.app.load(Interaction, interaction_id, expected_version)
        interaction.close(by)
        return self.app.commit(interaction)

    @retries_race(StaleVersion)
    def escalate(
        self, interaction_id: UUID, *, priority: str, reason: str, by: str, expected_version: int | None
    ) -> int:
        """Ask support for a ticket (the interaction must be linked to a customer)."""
        interaction = self.app.load(Interaction, interaction_id, expected_version)
        interaction.escalate(priority, reason, by, self.app.clock())
        return self.app.commit(interaction)

    def _identity(self, interaction: Interaction, customer_id: UUID) -> Identity:
        ident_id = identity_id(interaction.platform, interaction.author_handle)
        identity = self.app.find(Identity, ident_id)
        if identity is None:
            return Identity(
                platform=interaction.platform, handle=interaction.author_handle, customer_id=customer_id, id=ident_id
            )
        identity.repoint(customer_id)
        return identity

    def _receipt(self, account: Account, delivery: str, kind: str) -> Delivery:
        key = text(delivery, "delivery_id", 200)
        return Delivery(
            account_id=account.id,
            delivery=key,
            kind=kind,
            received_at=self.app.clock(),
            id=delivery_id(account.id, key),
        )

    def _save_delivery(self, receipt: Delivery, *aggregates: Aggregate) -> None:
        """Save the receipt with what it brought; a receipt already stored means a replay."""
        try:
            self.app.save(receipt, *aggregates)
        except IntegrityError:
            if self.app.find(Delivery, receipt.id) is not None:
                raise ReplayedDelivery(f"delivery {receipt.delivery} was already received") from None
            raise

    def _interaction(self, account: Account, interaction_id: UUID, item: Inbound) -> Interaction:
        if item.kind not in KINDS:
            raise InvalidInput(f"kind must be one of {KINDS}")
        body = text(item.text, "text", MAX_TEXT)
        scored = sentiment.score(body)
        post_id = (
            self.app.views.post_by_platform_id(account.id, item.platform_post_id) if item.platform_post_id else None
        )
        return Interaction(
            id=interaction_id,
            account_id=account.id,
            platform=account.platform,
            platform_interaction_id=text(item.platform_interaction_id, "id", 200),
            kind=item.kind,
            author_handle=text(item.author_handle, "author handle", 100),
            author_name=item.author_name.strip() if item.author_name else None,
            author_email=item.author_email.strip().lower() if item.author_email else None,
            text=body,
            sentiment=scored.label,
            sentiment_score=scored.score,
            occurred_at=utc(item.occurred_at, "occurred_at"),
            platform_post_id=item.platform_post_id,
            post_id=post_id,
            permalink=item.permalink,
        )
