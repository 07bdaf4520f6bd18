"""Fixtures of the marketing unit tests: an in-memory store, a fixed clock, an in-process SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiosmtpd.controller import Controller

from crm import mailsink
from services.marketing.application import MarketingApplication
from services.marketing.rules import SegmentRules
from services.marketing.settings import MarketingSettings

SECRET = "unit-test-tracking-secret-0123456789abcdef"
NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def app() -> MarketingApplication:
    """A marketing application on the in-memory store with a fixed clock."""
    return MarketingApplication(clock=lambda: NOW)


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[tuple[Controller, Path]]:
    """A real SMTP server (aiosmtpd) on a free port, writing into a Maildir."""
    maildir = tmp_path / "maildir"
    controller = mailsink.controller(maildir)
    controller.start()
    try:
        yield controller, maildir
    finally:
        controller.stop()


def settings_for(port: int, **extra: object) -> MarketingSettings:
    """Settings pointing at a local SMTP sink, with no real waits."""
    fields: dict[str, Any] = {"retry_base_seconds": 0, "email_rate": 10_000} | extra
    return MarketingSettings(
        tracking_secret=SECRET, smtp_host="127.0.0.1", smtp_port=port, public_url="http://marketing.test", **fields
    )


def join(
    app: MarketingApplication,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    consent: dict[str, bool] | None = None,
    tags: tuple[str, ...] = (),
    source: str = "web",
) -> UUID:
    """A customer as the audience consumer would record them."""
    customer_id = uuid4()
    app.join(
        customer_id,
        name=name,
        emails=[email] if email else [],
        phones=[phone] if phone else [],
        source=source,
        tags=list(tags),
        consent=consent if consent is not None else {"email": True},
    )
    return customer_id


def web_customers() -> SegmentRules:
    """A segment of every customer who came from the web (consent is left to the campaign's snapshot)."""
    return SegmentRules.model_validate({"conditions": [{"attribute": "source", "values": ["web"]}]})
