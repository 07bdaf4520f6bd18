"""The scheduler: publishes when due, retries with backoff, gives up, and never publishes twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from services.social.application import SocialApplication
from services.social.posts import Post
from services.social.scheduler import Scheduler
from services.social.tests.conftest import Clock, FakePlatform, connect, make_app
from shared.platform.eventstore import EventStoreSettings, persistence_env


def scheduled_post(app: SocialApplication, clock: Clock, minutes: float = 10) -> UUID:
    post = app.draft_post(
        connect(app),
        text="春季新品上市！",
        created_by="m@example.com",
        scheduled_for=clock.now + timedelta(minutes=minutes),
    )
    return post.id


def test_a_post_is_published_only_once_its_time_has_come(
    app: SocialApplication, clock: Clock, platform: FakePlatform
) -> None:
    post_id = scheduled_post(app, clock)
    scheduler = Scheduler(app)
    assert scheduler.run_once() == []
    clock.advance(minutes=10)
    assert scheduler.run_once() == [post_id]
    post = app.load(Post, post_id)
    assert (post.status, post.platform_post_id, post.attempts) == ("published", "p-1", 1)
    assert scheduler.run_once() == []
    assert platform.calls == 1


def test_failures_are_retried_with_exponential_backoff(
    app: SocialApplication, clock: Clock, platform: FakePlatform
) -> None:
    post_id = scheduled_post(app, clock, minutes=0)
    platform.fail_next = 2
    scheduler = Scheduler(app, max_attempts=4, backoff=timedelta(seconds=30))
    assert scheduler.run_once() == []
    assert app.load(Post, post_id).next_attempt_at == clock.now + timedelta(seconds=30)
    clock.advance(seconds=29)
    assert scheduler.run_once() == []
    assert platform.calls == 1
    clock.advance(seconds=1)
    scheduler.run_once()
    assert app.load(Post, post_id).next_attempt_at == clock.now + timedelta(seconds=60)
    clock.advance(seconds=60)
    assert scheduler.run_once() == [post_id]
    assert app.load(Post, post_id).attempts == 3


def test_publish_failed_after_the_last_attempt(app: SocialApplication, clock: Clock, platform: FakePlatform) -> None:
    post_id = scheduled_post(app, clock, minutes=0)
    platform.fail_next = 99
    scheduler = Scheduler(app, max_attempts=3, backoff=timedelta(seconds=1))
    for _ in range(5):
        scheduler.run_once()
        clock.advance(seconds=10)
    post = app.load(Post, post_id)
    assert (post.status, post.attempts, platform.calls) == ("failed", 3, 3)
    assert post.last_error == "platform answered HTTP 503"
    topics = [stored.topic for stored in app.recorder.select_events(post_id)]
    assert topics[-1].endswith("Post.PublishFailed")
    assert sum(t.endswith("Post.PublishAttemptFailed") for t in topics) == 2


def test_a_deleted_post_is_not_published(app: SocialApplication, clock: Clock, platform: FakePlatform) -> None:
    post_id = scheduled_post(app, clock, minutes=0)
    app.delete_post(post_id, expected_version=None)
    assert Scheduler(app).run_once() == []
    assert platform.calls == 0


def test_a_crash_after_the_platform_call_does_not_publish_twice_after_restart(tmp_path: Path, clock: Clock) -> None:
    platform = FakePlatform()
    env = persistence_env(EventStoreSettings(sqlite_path=str(tmp_path / "social.sqlite")))
    first = make_app(clock, platform, env)
    post_id = scheduled_post(first, clock, minutes=0)
    first.finish_publish = lambda *args: (_ for _ in ()).throw(SystemExit("killed"))  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        Scheduler(first).run_once()  # the platform created the post; the scheduler died before recording it
    assert len(platform.posts) == 1
    first.close()

    restarted = make_app(clock, platform, env)
    assert Scheduler(restarted).run_once() == [post_id]
    assert len(platform.posts) == 1, "the same idempotency key was sent again"
    assert platform.calls == 2
    post = restarted.load(Post, post_id)
    assert (post.status, post.platform_post_id) == ("published", "p-1")
    assert Scheduler(make_app(clock, platform, env)).run_once() == []
    assert platform.calls == 2
