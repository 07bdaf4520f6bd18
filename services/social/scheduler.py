"""The scheduler process: publishes due posts through their account's connector.

Each due post goes through three recorded steps (see `posts.py`): the attempt is saved
before the connector is called, with the post's idempotency key; then the platform's post
id, or the failure and when to retry. A scheduler killed mid-call finds the post still
"publishing" on restart and calls again with the same key, so the platform creates it once.
The clock is injected: tests drive time instead of sleeping.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from services.social.application import SocialApplication
from services.social.domain import SocialError
from services.social.settings import SocialSettings
from shared.platform import logs
from shared.platform.eventstore import persistence_env

log = logging.getLogger("crm.social.scheduler")


@dataclass
class Scheduler:
    """Publishes what is due, one post at a time."""

    app: SocialApplication
    max_attempts: int = 4
    backoff: timedelta = timedelta(seconds=30)

    def run_once(self) -> list[UUID]:
        """Publish every post due now; returns the posts it published."""
        published = []
        for post_id in self.app.views.due_posts(self.app.clock()):
            if self.publish(post_id):
                published.append(post_id)
        return published

    def publish(self, post_id: UUID) -> bool:
        """One attempt at one post; True if it is now published."""
        try:
            post, channel, key = self.app.begin_publish(post_id)
        except SocialError as exc:  # someone else took it, or it was deleted meanwhile
            log.info("post %s not published now: %s", post_id, exc)
            return False
        try:
            connector = self.app.connectors.get(self.app.views.accounts[post.account_id].connector)
            platform_post_id = connector.publish(channel, post.text, key)
        except Exception as exc:  # noqa: BLE001 - whatever the platform call raised, the attempt failed
            failed = self.app.fail_publish(post_id, str(exc), max_attempts=self.max_attempts, backoff=self.backoff)
            log.warning("post %s attempt %s failed (%s); now %s", post_id, failed.attempts, exc, failed.status)
            return False
        self.app.finish_publish(post_id, platform_post_id)
        log.info("post %s published as %s", post_id, platform_post_id)
        return True

    def run(self, stop: threading.Event, interval: float) -> None:
        """Publish due posts every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("scheduler round failed; trying again in %.1fs", interval)
            stop.wait(interval)


def build_scheduler(settings: SocialSettings) -> Scheduler:
    """A scheduler over the store configured by `settings`."""
    app = SocialApplication(env=persistence_env(settings.store), cipher=settings.cipher())
    return Scheduler(app, settings.publish_max_attempts, timedelta(seconds=settings.publish_backoff_seconds))


def main() -> None:
    """Entry point: `python -m services.social.scheduler`."""
    settings = SocialSettings()
    logs.configure("social-scheduler", settings.log_level)
    scheduler = build_scheduler(settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.run(stop, settings.scheduler_interval_seconds)


if __name__ == "__main__":
    main()
