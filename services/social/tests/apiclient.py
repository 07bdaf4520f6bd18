"""A TestClient over the social app with a fake platform and a settable clock, and signed deliveries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.social import signing
from services.social.connectors import Connectors
from services.social.main import create_app
from services.social.settings import SocialSettings
from services.social.tests.conftest import KEY, Clock, FakePlatform
from shared.platform.auth import AuthSettings, issue_token

SECRET = "unit-test-secret-0123456789abcdef0123"


def settings(tmp_path: Path) -> SocialSettings:
    return SocialSettings(store={"sqlite_path": str(tmp_path / "social.sqlite")}, credentials_key=SecretStr(KEY))


def client(tmp_path: Path, clock: Clock, platform: FakePlatform) -> TestClient:
    app = create_app(
        settings(tmp_path),
        AuthSettings(secret=SecretStr(SECRET)),
        connectors=Connectors({"generic_http": lambda: platform}),
        clock=clock,
    )
    return TestClient(app)


def as_(*roles: str, subject: str = "community@example.com") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject, list(roles))}"}


MARKETER = as_("marketer")
AGENT = as_("support_agent", subject="li.na@example.com")


def connect(api: TestClient) -> dict[str, Any]:
    body = {
        "platform": "Weibo",
        "handle": "@acme_cn",
        "endpoint_url": "http://127.0.0.1:9/weibo",
        "credentials": {"token": "tok-secret-123"},
    }
    response = api.post("/accounts", json=body, headers=MARKETER)
    assert response.status_code == 201, response.text
    account: dict[str, Any] = response.json()
    return account


def deliver(
    api: TestClient, account: dict[str, Any], payload: dict[str, Any], *, at: int, secret: str | None = None
) -> Any:
    raw = json.dumps(payload, ensure_ascii=False).encode()
    headers = {
        signing.TIMESTAMP_HEADER: str(at),
        signing.SIGNATURE_HEADER: signing.sign(secret or account["webhook_secret"], at, raw),
        "Content-Type": "application/json",
    }
    return api.post(f"/webhooks/{account['id']}", content=raw, headers=headers)


def mention_delivery(delivery: str = "d-1", interaction: str = "m-1", **event: Any) -> dict[str, Any]:
    return {
        "delivery_id": delivery,
        "event": {
            "type": "mention",
            "id": interaction,
            "author": {"handle": "@wang_fang", "name": "王芳"},
            "text": "客服太慢了，订单还没到！",
            "occurred_at": "2026-03-03T08:55:00+00:00",
            **event,
        },
    }
