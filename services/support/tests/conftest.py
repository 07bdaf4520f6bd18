"""Shared fixtures: an API over a temp SQLite store with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.support.main import create_app
from services.support.settings import SupportSettings
from shared.platform.auth import AuthSettings, issue_token

SECRET = "unit-test-secret-0123456789abcdef0123"
SURVEY_SECRET = "survey-secret-0123456789abcdef0123456789"
CUSTOMER = "8a7c4a52-5d0e-4c55-9d53-0e4b3c1f2a10"


class FakeClock:
    """A clock tests move by hand: nothing ever sleeps."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # a Monday


@pytest.fixture
def api(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    settings = SupportSettings(
        store={"sqlite_path": str(tmp_path / "support.sqlite")}, survey_secret=SecretStr(SURVEY_SECRET)
    )
    with TestClient(create_app(settings, AuthSettings(secret=SecretStr(SECRET)), clock=clock)) as client:
        yield client


def as_(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject, list(roles))}"}


ADMIN = as_("admin@example.com", "admin")
ALICE = as_("alice@example.com", "support_agent")
BOB = as_("bob@example.com", "support_agent")
CAROL = as_("carol@example.com", "support_agent")
ANALYST = as_("ann@example.com", "analyst")
TICKET: dict[str, Any] = {
    "customer_id": CUSTOMER,
    "channel": "email",
    "subject": "订单没有到",
    "description": "我上周下的订单还没有收到。",
    "category": "delivery",
    "priority": "P2",
}


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()
