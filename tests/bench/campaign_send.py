"""Benchmark: campaign send rate (messages/s) through the local SMTP server.

Sends one email campaign to N customers with the real sender (audience snapshot,
rendering, signed links, the `Prepared`/`Sent` records in a SQLite event store, the SMTP
transaction with its commit point) and, as a baseline in the same process, N raw
`aiosmtplib` sends of an equal message over one connection. The SMTP server is the one
in `CRM_SMTP_HOST`/`CRM_SMTP_PORT` (deploy/local/smtp.sh), else an in-process aiosmtpd.
Usage: `python -m tests.bench.campaign_send --messages 500`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aiosmtplib

from crm import mailsink
from services.marketing.application import MarketingApplication
from services.marketing.rules import SegmentRules
from services.marketing.sender import build_sender
from services.marketing.settings import MarketingSettings
from shared.platform.eventstore import EventStoreSettings, persistence_env
from tests.bench.figures import Figure

VARIANT = {
    "name": "A",
    "weight": 1,
    "subject": "{{ customer.name }}，春季新品",
    "html": '<p>您好 {{ customer.name }}</p><a href="https://shop.example.com/spring">Shop</a>',
}


def prepare(app: MarketingApplication, count: int, domain: str) -> UUID:
    """N consenting customers, a segment of them and a campaign due now."""
    for i in range(count):
        app.join(
            uuid4(),
            name=f"客户{i}",
            emails=[f"c{i}@{domain}"],
            phones=[],
            source="bench",
            tags=[],
            consent={"email": True},
        )
    rules = SegmentRules.model_validate({"conditions": [{"attribute": "source", "values": ["bench"]}]})
    segment = app.define_segment(name="bench", description="", rules=rules, by="bench")
    campaign = app.create_campaign(
        name="bench", channel="email", segment_id=segment.id, variants=[VARIANT], fallbacks={}, by="bench"
    )
    app.schedule(campaign.id, expected_version=None, send_at=None)
    return campaign.id


async def baseline(host: str, port: int, message: bytes, count: int, domain: str) -> float:
    """Raw aiosmtplib sends over one connection: messages/s."""
    async with aiosmtplib.SMTP(hostname=host, port=port, start_tls=False) as smtp:
        started = time.perf_counter()
        for i in range(count):
            await smtp.sendmail("bench@crm.example", [f"raw{i}@{domain}"], message)
        return count / (time.perf_counter() - started)


def measure(messages: int) -> dict[str, Any]:
    """The campaign sender's and raw aiosmtplib's messages/s to the same SMTP server."""
    sink = None
    if not os.environ.get("CRM_SMTP_PORT"):
        sink = mailsink.controller(Path(tempfile.mkdtemp()) / "maildir")
        sink.start()
    host, port = os.environ.get("CRM_SMTP_HOST", "127.0.0.1"), int(os.environ.get("CRM_SMTP_PORT") or sink.port)  # type: ignore[union-attr]
    try:
        domain = f"bench{uuid4().hex[:8]}.example"
        store = EventStoreSettings(sqlite_path=str(Path(tempfile.mkdtemp()) / "marketing.sqlite"))
        settings = MarketingSettings(
            tracking_secret="bench-tracking-secret-0123456789abcdef",
            smtp_host=host,
            smtp_port=port,
            email_rate=1_000_000,
            store=store,
        )
        app = MarketingApplication(env=persistence_env(store))
        campaign_id = prepare(app, messages, domain)
        sender = build_sender(settings, app)
        started = time.perf_counter()
        outcomes = asyncio.run(sender.send_campaign(campaign_id))
        seconds = time.perf_counter() - started
        sample = sender.composer.email(
            VARIANT, sender.composer.context(app.view.audience()[0], "bench", {}, uuid4()), uuid4(), f"raw@{domain}"
        )
        raw = asyncio.run(baseline(host, port, sample.body, messages, domain))
    finally:
        if sink is not None:
            sink.stop()
    return {
        "rate": messages / seconds,
        "raw": raw,
        "seconds": seconds,
        "outcomes": dict(outcomes),
        "smtp": f"{host}:{port}",
    }


def run(quick: bool) -> list[Figure]:
    """The `make bench` figure: campaign sends ÷ raw SMTP sends of the same message."""
    messages = 30 if quick else 300
    found = measure(messages)
    return [
        Figure(
            "campaign send",
            f"{messages:,} emails",
            "messages/s",
            found["rate"],
            "msg/s",
            "raw aiosmtplib",
            found["raw"],
            "-",
            None,
            found["seconds"],
        )
    ]


def main() -> None:
    """Run both measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    found = measure(args.messages)
    rate, raw = found["rate"], found["raw"]
    print(f"SMTP server {found['smtp']}, {args.messages} messages, outcomes {found['outcomes']}")
    print(f"campaign sender : {rate:8.1f} messages/s (render, sign, 2 event-store writes, SMTP)")
    print(f"raw aiosmtplib  : {raw:8.1f} messages/s (same message, one connection)")
    print(f"sender / raw    : {rate / raw:8.2f}")


if __name__ == "__main__":
    main()
