"""Fixtures of the social unit tests: an in-memory store, a settable clock, a fake platform."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.social.application import SocialApplication
from services.social.connectors import Channel, Connectors
from services.social.credentials import CredentialCipher
from services.social.domain import ConnectorFailed
from services.social.inbox import Inbound, Inbox

KEY = base64.b64encode(os.urandom(32)).decode()
START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class FakePlatform:
    """A platform that honours idempotency keys and can be told to fail."""

    fail_next: int = 0
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: int = 0

    def publish(self, channel: Channel, text: str, idempotency_key: str) -> str:
        self.calls += 1
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectorFailed("platform answered HTTP 503")
        post = self.posts.setdefault(idempotency_key, {"id": f"p-{len(self.posts) + 1}", "text": text})
        return str(post["id"])

    def reply(self, channel: Channel, in_reply_to: str, text: str, idempotency_key: str) -> str:
        reply = self.replies.setdefault(idempotency_key, {"id": f"r-{len(self.replies) + 1}", "to": in_reply_to})
        return str(reply["id"])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


def make_app(clock: Clock, platform: FakePlatform, env: dict[str, str] | None = None) -> SocialApplication:
    """An application over `env` (in memory by default) whose connector is `platform`."""
    return SocialApplication(
        env=env or {"PERSISTENCE_MODULE": "eventsourcing.popo"},
        cipher=CredentialCipher(base64.b64decode(KEY)),
        connectors=Connectors({"generic_http": lambda: platform}),
        clock=clock,
    )


@pytest.fixture
def app(clock: Clock, platform: FakePlatform) -> Iterator[SocialApplication]:
    with make_app(clock, platform) as application:
        yield application


@pytest.fixture
def inbox(app: SocialApplication) -> Inbox:
    return Inbox(app)


def connect(app: SocialApplication, platform: str = "weibo") -> UUID:
    account, _ = app.connect_account(
        platform=platform,
        handle="@acme_cn",
        connector="generic_http",
        endpoint_url="http://127.0.0.1:9/weibo",
        credentials={"token": "tok-secret-123"},
    )
    return account.id


def mention(n: int = 1, **overrides: Any) -> Inbound:
    fields: dict[str, Any] = {
        "platform_interaction_id": f"m-{n}",
        "kind": "mention",
        "author_handle": "@wang_fang",
        "text": "客服太慢了，订单还没到！",
        "occurred_at": START,
        "author_name": "王芳",
    }
    return Inbound(**(fields | overrides))
