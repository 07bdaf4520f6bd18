"""The campaign sender: a worker process (`python -m services.marketing.sender`).

It starts due campaigns (freezing the audience snapshot), sends each recipient their
variant through the channel's transport with per-channel throttling and retries with
backoff, and records every outcome in the event store. Restarted at any point, it
resumes from that state: a customer whose message was prepared is never sent it again
by email (see `transports.py`); an SMS is resent with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from uuid import UUID

from services.marketing.application import MarketingApplication
from services.marketing.compose import Composer
from services.marketing.domain import Campaign
from services.marketing.messages import message_id
from services.marketing.metrics_client import metrics_source
from services.marketing.settings import MarketingSettings
from services.marketing.transports import (
    HttpSmsGateway,
    OutcomeUnknown,
    Outgoing,
    Refused,
    SmtpTransport,
    Transport,
    Unreachable,
)
from shared.platform import logs
from shared.platform.eventstore import persistence_env

log = logging.getLogger("crm.marketing.sender")
Sleep = Callable[[float], Awaitable[None]]
CANCEL_CHECK_EVERY = 25


class Throttle:
    """At most `rate` sends per second (a steady pace, no bursts); clock and sleep are injectable."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0

    async def acquire(self) -> None:
        """Wait for the next slot."""
        now = self.clock()
        if self._next > now:
            await self.sleep(self._next - now)
        self._next = max(now, self._next) + self.interval


class Sender:
    """Sends due campaigns; every decision is recorded before it is acted on."""

    def __init__(
        self,
        app: MarketingApplication,
        composer: Composer,
        transports: dict[str, Transport],
        settings: MarketingSettings,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.app = app
        self.composer = composer
        self.transports = transports
        self.settings = settings
        self.sleep = sleep
        self.throttles = {
            "email": Throttle(settings.email_rate, sleep=sleep),
            "sms": Throttle(settings.sms_rate, sleep=sleep),
        }

    async def run_once(self) -> int:
        """Send every due campaign; how many were handled."""
        due = await asyncio.to_thread(self.app.view.due, self.app.clock())
        for campaign_id in due:
            await self.send_campaign(campaign_id)
        return len(due)

    async def send_campaign(self, campaign_id: UUID) -> Counter[str]:
        """Snapshot (if not yet taken), send to every recipient, complete."""
        channel = (await asyncio.to_thread(self.app.campaign, campaign_id)).channel
        if channel not in self.transports:  # checked before the snapshot: nothing starts that cannot be sent
            raise RuntimeError(f"no {channel} transport configured (CRM_MARKETING_SMS_GATEWAY_URL)")
        campaign = await asyncio.to_thread(self.app.start_sending, campaign_id)
        outcomes: Counter[str] = Counter()
        for i, (customer, variant) in enumerate(campaign.recipients):
            if i % CANCEL_CHECK_EVERY == 0 and await self._cancelled(campaign_id):
                log.info("campaign %s cancelled after %s recipients", campaign_id, i)
                return outcomes
            outcomes[await self.deliver(campaign, UUID(customer), variant)] += 1
        await asyncio.to_thread(
            self.app.complete,
            campaign_id,
            sent=outcomes["sent"],
            bounced=outcomes["bounced"],
            withheld=outcomes["withheld"],
        )
        log.info("campaign %s completed: %s", campaign_id, dict(outcomes))
        return outcomes

    async def deliver(self, campaign: Campaign, customer_id: UUID, variant: str) -> str:
        """Send one recipient their message unless it was already handled; the outcome."""
        ident = message_id(campaign.id, customer_id)
        existing = await asyncio.to_thread(self.app.message, ident)
        if existing is not None and existing.outcome is not None:
            return existing.outcome
        if existing is not None and campaign.channel == "email":
            await asyncio.to_thread(self.app.mark_sent, ident, confirmed=False)
            return "sent"
        member = await asyncio.to_thread(self.app.view.reachable, customer_id, campaign.channel)
        if member is None:
            return "withheld"  # unsubscribed, consent withdrawn or erased since the snapshot
        context = self.composer.context(member, campaign.name, campaign.fallbacks, ident)
        spec = campaign.variant(variant)
        if campaign.channel == "email":
            outgoing = self.composer.email(spec, context, ident, member.emails[0])
        else:
            outgoing = self.composer.sms(spec, context, ident, member.phones[0])
        prepared = existing is not None

        async def commit() -> None:
            nonlocal prepared
            if not prepared:
                await asyncio.to_thread(self.app.prepare, campaign, customer_id, variant)
                prepared = True

        return await self._attempts(campaign.channel, outgoing, ident, commit)

    async def _attempts(
        self, channel: str, outgoing: Outgoing, ident: UUID, commit: Callable[[], Awaitable[None]]
    ) -> str:
        """Try with exponential backoff on temporary failures; record the outcome."""
        code = 0
        for attempt in range(self.settings.max_attempts):
            if attempt:
                await self.sleep(self.settings.retry_base_seconds * 2 ** (attempt - 1))
            await self.throttles[channel].acquire()
            try:
                await self.transports[channel].send(outgoing, self.settings.mail_from, commit)
            except Refused as refused:
                if not refused.permanent:
                    code = refused.code
                    continue
                await commit()
                await asyncio.to_thread(self.app.bounce, ident, code=refused.code, permanent=True)
                return "bounced"
            except Unreachable as exc:
                log.warning("%s transport unreachable (attempt %s): %s", channel, attempt + 1, exc)
                continue
            except OutcomeUnknown:
                await asyncio.to_thread(self.app.mark_sent, ident, confirmed=False)
                return "sent"
            await asyncio.to_thread(self.app.mark_sent, ident)
            return "sent"
        await commit()
        await asyncio.to_thread(self.app.bounce, ident, code=code, permanent=False)
        return "bounced"

    async def _cancelled(self, campaign_id: UUID) -> bool:
        campaign = await asyncio.to_thread(self.app.campaign, campaign_id)
        return campaign.status == "cancelled"

    async def run(self, stop: asyncio.Event) -> None:
        """Poll for due campaigns until `stop` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("sending failed; retrying")
            try:
                await asyncio.wait_for(stop.wait(), self.settings.poll_seconds)
            except TimeoutError:
                continue


def build_sender(settings: MarketingSettings, app: MarketingApplication | None = None) -> Sender:
    """A sender over the store, SMTP server and SMS gateway in `settings`."""
    app = app or MarketingApplication(env=persistence_env(settings.store), metrics=metrics_source(settings))
    transports: dict[str, Transport] = {
        "email": SmtpTransport(settings.smtp_host, settings.smtp_port, settings.smtp_timeout)
    }
    if settings.sms_gateway_url:
        transports["sms"] = HttpSmsGateway(settings.sms_gateway_url)
    composer = Composer(settings.signer(), settings.base_url(), settings.mail_from)
    return Sender(app, composer, transports, settings)


async def _serve(sender: Sender) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await sender.run(stop)
    finally:
        for transport in sender.transports.values():
            await transport.close()


def main() -> None:
    """Entry point: `python -m services.marketing.sender`."""
    settings = MarketingSettings()
    logs.configure("marketing-sender", settings.log_level)
    asyncio.run(_serve(build_sender(settings)))


if __name__ == "__main__":
    main()
