"""The social service's `eventsourcing` application: accounts, the content calendar, publishing.

Each command loads, lets the aggregate decide, and saves atomically; optimistic
concurrency turns a decision taken on an old version into `StaleVersion`. The inbox
(`inbox.py`) and the customer lifecycle (`lifecycle.py`) are service-layer modules over
this application.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper
from eventsourcing.utils import EnvType

from services.social import identities, interactions
from services.social.accounts import Account
from services.social.connectors import Channel, Connectors
from services.social.credentials import CredentialCipher
from services.social.domain import InvalidState, NotFound, StaleVersion
from services.social.posts import Post
from services.social.views import SocialViews
from shared.platform.concurrency import retries_race, save_or_stale
from shared.platform.keystore import KeyStore, keystore_for
from shared.platform.pii import PiiMapper

PII_FIELDS = {**interactions.PII_FIELDS, **identities.PII_FIELDS}
"""Personal fields of every social domain event, sealed with the key of their aggregate."""

A = TypeVar("A", bound=Aggregate)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


class SocialApplication(Application[UUID]):
    """Social media management: connected accounts, content calendar, inbox, identities."""

    name = "social"

    def __init__(
        self,
        env: EnvType | None = None,
        *,
        cipher: CredentialCipher | None = None,
        connectors: Connectors | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.keys: KeyStore | None = None
        super().__init__(env)
        self._cipher = cipher
        self.connectors = connectors or Connectors()
        self.clock = clock
        self.views = SocialViews(self)

    # accounts

    def connect_account(
        self, *, platform: str, handle: str, connector: str, endpoint_url: str, credentials: dict[str, str]
    ) -> tuple[Account, str]:
        """Connect an account; returns it and its new webhook secret (shown to the caller once)."""
        self.connectors.get(connector)  # an unknown connector is refused before anything is written
        account_id, webhook_secret = uuid4(), secrets.token_urlsafe(32)
        secret = {"webhook_secret": webhook_secret, "credentials": json.dumps(credentials)}
        sealed = self.cipher.seal(secret, bound_to=str(account_id))
        account = Account.connect(
            account_id=account_id,
            platform=platform,
            handle=handle,
            connector=connector,
            endpoint_url=endpoint_url,
            sealed=sealed,
        )
        self.save(account)
        return account, webhook_secret

    def rotate_webhook_secret(
        self, account_id: UUID, *, expected_version: int | None, credentials: dict[str, str] | None = None
    ) -> tuple[Account, str]:
        """A new webhook secret (and, when given, new credentials); the old secret stops working at once."""
        account = self.load(Account, account_id, expected_version)
        current = json.loads(self.cipher.open(account.sealed, bound_to=str(account.id))["credentials"])
        webhook_secret = secrets.token_urlsafe(32)
        secret = {"webhook_secret": webhook_secret, "credentials": json.dumps(credentials or current)}
        account.replace_secrets(self.cipher.seal(secret, bound_to=str(account.id)))
        self.commit(account)
        return account, webhook_secret

    @retries_race(StaleVersion)
    def disconnect_account(self, account_id: UUID, expected_version: int | None = None) -> int:
        """Disconnect an account: no more posts, replies or webhooks through it."""
        account = self.load(Account, account_id, expected_version)
        account.disconnect()
        return self.commit(account)

    def channel(self, account: Account) -> Channel:
        """How to reach the account's platform, credentials decrypted (never leaves the process)."""
        opened = self.cipher.open(account.sealed, bound_to=str(account.id))
        return Channel(account.platform, account.handle, account.endpoint_url, json.loads(opened["credentials"]))

    def webhook_secret(self, account: Account) -> str:
        """The secret the account's webhook deliveries are signed with."""
        return self.cipher.open(account.sealed, bound_to=str(account.id))["webhook_secret"]

    # content calendar

    def draft_post(self, account_id: UUID, *, text: str, created_by: str, scheduled_for: datetime | None) -> Post:
        """Draft a post, scheduled at once when `scheduled_for` is given (one atomic save)."""
        self.load(Account, account_id).ensure_connected()
        post = Post.draft(account_id=account_id, body=text, created_by=created_by)
        if scheduled_for is not None:
            post.schedule(scheduled_for, self.clock())
        self.save(post)
        return post

    @retries_race(StaleVersion)
    def edit_post(self, post_id: UUID, *, expected_version: int | None, text: str) -> int:
        """Change the text of an unpublished post."""
        post = self.load(Post, post_id, expected_version)
        post.edit(text)
        return self.commit(post)

    @retries_race(StaleVersion)
    def schedule_post(self, post_id: UUID, *, expected_version: int | None, scheduled_for: datetime) -> int:
        """Schedule or reschedule a post."""
        post = self.load(Post, post_id, expected_version)
        self.load(Account, post.account_id).ensure_connected()
        post.schedule(scheduled_for, self.clock())
        return self.commit(post)

    @retries_race(StaleVersion)
    def delete_post(self, post_id: UUID, *, expected_version: int | None) -> int:
        """Take a post off the calendar."""
        post = self.load(Post, post_id, expected_version)
        post.delete()
        return self.commit(post)

    def record_engagement(self, post_id: UUID, *, likes: int, comments: int, shares: int, at: datetime) -> Post:
        """Newer engagement totals of a post, from a metrics delivery (unsaved: the caller saves)."""
        post = self.load(Post, post_id)
        if post.status != "published":
            raise InvalidState(f"post {post_id} is {post.status}; only published posts have engagement")
        post.update_engagement(likes, comments, shares, at)
        return post

    # publishing (the scheduler's steps)

    def begin_publish(self, post_id: UUID) -> tuple[Post, Channel, str]:
        """Record the attempt before the connector is called; returns what the call needs."""
        post = self.load(Post, post_id)
        account = self.load(Account, post.account_id)
        key = post.begin_attempt(self.clock())
        self.commit(post)
        return post, self.channel(account), key

    def finish_publish(self, post_id: UUID, platform_post_id: str) -> None:
        """Record the platform's id of a published post."""
        post = self.load(Post, post_id)
        post.mark_published(platform_post_id, self.clock())
        self.commit(post)

    def fail_publish(self, post_id: UUID, error: str, *, max_attempts: int, backoff: timedelta) -> Post:
        """Record a failed attempt: retry later, or `PublishFailed` after the last one."""
        post = self.load(Post, post_id)
        post.mark_attempt_failed(error, self.clock(), max_attempts=max_attempts, backoff=backoff)
        self.commit(post)
        return post

    # plumbing

    @property
    def cipher(self) -> CredentialCipher:
        """The credentials cipher; a process without the key cannot touch credentials."""
        if self._cipher is None:
            raise RuntimeError("CRM_SOCIAL_CREDENTIALS_KEY is required for credentials")
        return self._cipher

    @property
    def pii_keys(self) -> KeyStore:
        """The per-aggregate keys that seal personal data in the stored events."""
        assert self.keys is not None, "set by construct_mapper"
        return self.keys

    def construct_mapper(self) -> Mapper[UUID]:
        """A mapper that seals each interaction's and identity's personal data with its own key."""
        self.keys = keystore_for(self.env.get)
        return PiiMapper(self.construct_transcoder(), self.keys, PII_FIELDS)

    def find(self, kind: type[A], record_id: UUID) -> A | None:
        """The aggregate, or None if there is none of that kind."""
        try:
            found: Any = self.repository.get(record_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, kind) else None

    def load(self, kind: type[A], record_id: UUID, expected_version: int | None = None) -> A:
        """Load for a command, refusing a decision taken on another version."""
        found = self.find(kind, record_id)
        if found is None:
            raise NotFound(kind.__name__.lower(), record_id)
        if expected_version is not None and expected_version != found.version:
            raise StaleVersion(expected_version, found.version, record_id)
        return found

    def commit(self, *aggregates: Aggregate) -> int:
        """Save atomically; a concurrent writer having got there first makes this decision stale."""
        save_or_stale(self, aggregates, StaleVersion)
        return aggregates[0].version
