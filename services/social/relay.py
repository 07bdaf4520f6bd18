"""The social service's outbox relay: social domain events → `crm.social.v1`.

One explicit function per domain event; events that stay inside the service (delivery
receipts, identities, known customers, attempts) map to None. Interactions travel without
text or author until linked to a customer (see `shared/events/social.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.social.accounts import Account
from services.social.application import SocialApplication
from services.social.deliveries import Delivery
from services.social.identities import Identity, KnownCustomer
from services.social.interactions import Interaction
from services.social.posts import Post
from services.social.settings import SocialSettings
from shared.events import PublicEvent
from shared.events import social as public
from shared.platform.eventstore import persistence_env
from shared.platform.outbox import Publish, Relay
from shared.platform.relaying import relay_over, run_relay


def _private(e: Any) -> None:
    return None


def _connected(e: Any) -> PublicEvent:
    return public.AccountConnectedV1(
        account_id=e.originator_id, platform=e.platform, handle=e.handle, connector=e.connector
    )


def _disconnected(e: Any) -> PublicEvent:
    return public.AccountDisconnectedV1(account_id=e.originator_id)


def _drafted(e: Any) -> PublicEvent:
    return public.PostDraftedV1(post_id=e.originator_id, account_id=e.account_id, text=e.text, created_by=e.created_by)


class _PostMapper:
    """Post events after the first need the post's account, which only `Drafted` carries."""

    def __init__(self, app: SocialApplication) -> None:
        self.app = app

    def account_of(self, post_id: Any) -> Any:
        post: Post = self.app.repository.get(post_id)
        return post.account_id

    def scheduled(self, e: Any) -> PublicEvent:
        return public.PostScheduledV1(
            post_id=e.originator_id, account_id=self.account_of(e.originator_id), scheduled_for=e.scheduled_for
        )

    def published(self, e: Any) -> PublicEvent:
        post: Post = self.app.repository.get(e.originator_id, version=e.originator_version)
        return public.PostPublishedV1(
            post_id=e.originator_id,
            account_id=post.account_id,
            platform_post_id=e.platform_post_id,
            published_at=e.published_at,
            attempts=post.attempts,
        )

    def failed(self, e: Any) -> PublicEvent:
        post: Post = self.app.repository.get(e.originator_id, version=e.originator_version)
        return public.PostPublishFailedV1(
            post_id=e.originator_id, account_id=post.account_id, attempts=post.attempts, error=e.error,
            failed_at=e.failed_at,
        )  # fmt: skip

    def deleted(self, e: Any) -> PublicEvent:
        return public.PostDeletedV1(post_id=e.originator_id, account_id=self.account_of(e.originator_id))

    def engagement(self, e: Any) -> PublicEvent:
        return public.PostEngagementUpdatedV1(
            post_id=e.originator_id,
            account_id=self.account_of(e.originator_id),
            likes=e.likes,
            comments=e.comments,
            shares=e.shares,
            measured_at=e.measured_at,
        )


def _received(e: Any) -> PublicEvent:
    return public.InteractionReceivedV1(
        interaction_id=e.originator_id,
        account_id=e.account_id,
        platform=e.platform,
        kind=e.kind,
        sentiment=e.sentiment,
        occurred_at=e.occurred_at,
    )


def _linked(e: Any) -> PublicEvent:
    return public.InteractionLinkedToCustomerV1(
        customer_id=e.customer_id,
        interaction_id=e.originator_id,
        account_id=e.account_id,
        platform=e.platform,
        kind=e.kind,
        author_handle=e.author_handle,
        text=e.text,
        sentiment=e.sentiment,
        occurred_at=e.occurred_at,
        method=e.method,
        linked_by=e.linked_by,
    )


def _unlinked(e: Any) -> PublicEvent:
    return public.InteractionUnlinkedFromCustomerV1(customer_id=e.customer_id, interaction_id=e.originator_id)


def _assigned(e: Any) -> PublicEvent:
    return public.InteractionAssignedV1(interaction_id=e.originator_id, assignee=e.assignee, assigned_by=e.assigned_by)


def _replied(e: Any) -> PublicEvent:
    return public.InteractionRepliedV1(
        interaction_id=e.originator_id,
        platform_reply_id=e.platform_reply_id,
        replied_by=e.replied_by,
        replied_at=e.replied_at,
    )


def _closed(e: Any) -> PublicEvent:
    return public.InteractionClosedV1(interaction_id=e.originator_id, closed_by=e.closed_by)


def _escalated(e: Any) -> PublicEvent:
    return public.InteractionEscalatedV1(
        customer_id=e.customer_id,
        interaction_id=e.originator_id,
        account_id=e.account_id,
        platform=e.platform,
        kind=e.kind,
        author_handle=e.author_handle,
        text=e.text,
        sentiment=e.sentiment,
        priority=e.priority,
        reason=e.reason,
        escalated_by=e.escalated_by,
        escalated_at=e.escalated_at,
        permalink=e.permalink,
    )


def mapping(app: SocialApplication) -> dict[type[Any], Callable[[Any], PublicEvent | None]]:
    """Domain event class → its public event function (None for private events)."""
    posts = _PostMapper(app)
    return {
        Account.Connected: _connected,
        Account.Disconnected: _disconnected,
        Account.SecretsReplaced: _private,
        Post.Drafted: _drafted,
        Post.Edited: _private,
        Post.Scheduled: posts.scheduled,
        Post.PublishAttempted: _private,
        Post.Published: posts.published,
        Post.PublishAttemptFailed: _private,
        Post.PublishFailed: posts.failed,
        Post.Deleted: posts.deleted,
        Post.EngagementUpdated: posts.engagement,
        Interaction.Received: _received,
        Interaction.Linked: _linked,
        Interaction.Unlinked: _unlinked,
        Interaction.Assigned: _assigned,
        Interaction.Replied: _replied,
        Interaction.Closed: _closed,
        Interaction.Escalated: _escalated,
        Interaction.Erased: _private,
        Delivery.Accepted: _private,
        Identity.Learnt: _private,
        Identity.Repointed: _private,
        Identity.Forgotten: _private,
        KnownCustomer.Seen: _private,
        KnownCustomer.EmailsChanged: _private,
        KnownCustomer.MergedInto: _private,
        KnownCustomer.Erased: _private,
    }


def public_mapper(app: SocialApplication) -> Callable[[Any], PublicEvent | None]:
    """`to_public` for the relay: every domain event has an explicit entry."""
    table = mapping(app)

    def to_public(domain_event: Any) -> PublicEvent | None:
        return table[type(domain_event)](domain_event)

    return to_public


def build_relay(settings: SocialSettings, publish: Publish) -> Relay:
    """A relay over the social store configured by `settings`."""
    app = SocialApplication(env=persistence_env(settings.store))
    return relay_over("social", app, public_mapper(app), settings, publish)


def main() -> None:
    """Entry point of the relay process: `python -m services.social.relay`."""
    settings = SocialSettings()
    run_relay("social", settings, lambda publish: build_relay(settings, publish))


if __name__ == "__main__":
    main()
