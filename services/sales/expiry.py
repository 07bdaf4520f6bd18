"""The quote-expiry worker: `python -m services.sales.expiry`.

Every `expiry_interval_seconds` it expires the unanswered quotes whose valid-until date
has passed (in UTC). Exactly once across restarts and replicas: the quote itself records
`Expired`, a quote is only expired from draft or sent, and a concurrent expiry of the
same quote loses on its version and is skipped. The clock is injected, so tests never sleep.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from uuid import UUID

from services.sales.application import SalesApplication
from services.sales.settings import SalesSettings
from shared.platform import logs
from shared.platform.eventstore import persistence_env

log = logging.getLogger("crm.sales.expiry")


def run_once(sales: SalesApplication) -> list[UUID]:
    """Expire what is due by the application's clock; the quotes expired now."""
    expired = sales.expire_quotes()
    if expired:
        log.info("expired %d quotes", len(expired))
    return expired


async def run(sales: SalesApplication, interval: float, stop: asyncio.Event) -> None:
    """Expire due quotes every `interval` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(run_once, sales)
        except Exception:
            log.exception("quote expiry failed; retrying in %.0fs", interval)
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            continue


async def _serve(sales: SalesApplication, interval: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(sales, interval, stop)


def main() -> None:
    """Entry point: `python -m services.sales.expiry`."""
    settings = SalesSettings()
    logs.configure("sales-expiry", settings.log_level)
    sales = SalesApplication(env=persistence_env(settings.store), settings=settings)
    asyncio.run(_serve(sales, settings.expiry_interval_seconds))


if __name__ == "__main__":
    main()
