"""The social API: accounts, calendar and inbox work, with roles, validation and concurrency."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.social.credentials import CredentialsKeyInvalid
from services.social.domain import ConnectorFailed
from services.social.main import create_app
from services.social.scheduler import Scheduler
from services.social.settings import SocialSettings
from services.social.tests.apiclient import AGENT, MARKETER, as_, client, connect, deliver, mention_delivery
from services.social.tests.conftest import START, Clock, FakePlatform
from shared.platform.auth import AuthSettings

NOW = int(START.timestamp())


@pytest.fixture
def api(tmp_path: Path, clock: Clock, platform: FakePlatform) -> Iterator[TestClient]:
    with client(tmp_path, clock, platform) as test_client:
        yield test_client


def stored_bytes(tmp_path: Path) -> bytes:
    with sqlite3.connect(tmp_path / "social.sqlite") as db:
        return b"".join(bytes(row[0]) for row in db.execute("select state from stored_events"))


def test_credentials_are_encrypted_at_rest_and_never_returned(api: TestClient, tmp_path: Path) -> None:
    account = connect(api)
    assert account["platform"] == "weibo"
    assert account["webhook_secret"]
    assert "credentials" not in account
    read = api.get(f"/accounts/{account['id']}", headers=MARKETER).json()
    assert "credentials" not in read
    assert "webhook_secret" not in read
    raw = stored_bytes(tmp_path)
    assert b"tok-secret-123" not in raw
    assert account["webhook_secret"].encode() not in raw


def test_the_service_refuses_to_start_without_a_credentials_key(tmp_path: Path) -> None:
    settings = SocialSettings(store={"sqlite_path": str(tmp_path / "s.sqlite")}, credentials_key=None)
    with pytest.raises(CredentialsKeyInvalid, match="CRM_SOCIAL_CREDENTIALS_KEY"):
        create_app(settings, AuthSettings(secret=SecretStr("x" * 32)))
    short = SocialSettings(store={"sqlite_path": str(tmp_path / "s.sqlite")}, credentials_key=SecretStr("c2hvcnQ="))
    with pytest.raises(CredentialsKeyInvalid, match="32 bytes"):
        create_app(short, AuthSettings(secret=SecretStr("x" * 32)))


def test_bad_account_input_is_422_and_writes_nothing(api: TestClient, tmp_path: Path) -> None:
    bad_url = {"platform": "weibo", "handle": "@a", "endpoint_url": "ftp://x"}
    assert api.post("/accounts", json=bad_url, headers=MARKETER).status_code == 422
    bad_connector = {"platform": "weibo", "handle": "@a", "endpoint_url": "http://x", "connector": "fax"}
    assert api.post("/accounts", json=bad_connector, headers=MARKETER).status_code == 422
    assert api.get("/accounts", headers=MARKETER).json() == []


def test_roles_are_enforced(api: TestClient) -> None:
    body = {"platform": "weibo", "handle": "@a", "endpoint_url": "http://x"}
    assert api.post("/accounts", json=body).status_code == 401
    assert api.post("/accounts", json=body, headers=as_("sales_rep")).status_code == 403
    assert api.post("/posts", json={"account_id": str(uuid4()), "text": "x"}, headers=AGENT).status_code == 403


def test_post_calendar_flow_with_stale_versions(api: TestClient, clock: Clock) -> None:
    account = connect(api)
    draft = api.post("/posts", json={"account_id": account["id"], "text": "新品"}, headers=MARKETER)
    assert draft.status_code == 201
    assert draft.json()["status"] == "draft"
    post_id = draft.json()["id"]
    assert (
        api.patch(f"/posts/{post_id}", json={"text": "新品上市", "expected_version": 1}, headers=MARKETER).json()[
            "version"
        ]
        == 2
    )
    stale = api.patch(f"/posts/{post_id}", json={"text": "again", "expected_version": 1}, headers=MARKETER)
    assert stale.status_code == 409
    when = "2026-03-04T09:00:00+08:00"
    scheduled = api.post(f"/posts/{post_id}/schedule", json={"scheduled_for": when}, headers=MARKETER)
    assert scheduled.status_code == 200
    calendar = api.get("/posts", params={"status": "scheduled"}, headers=MARKETER).json()
    assert [p["id"] for p in calendar] == [post_id]
    assert calendar[0]["scheduled_for"] == "2026-03-04T01:00:00Z"
    window = {"scheduled_from": "2026-03-04T00:00:00Z", "scheduled_to": "2026-03-05T00:00:00+08:00"}
    assert [p["id"] for p in api.get("/posts", params=window, headers=MARKETER).json()] == [post_id]
    for loose in ("-1.9", "0", "2026-03-04T00:00:00"):  # epochs and naive times (schemathesis sent -1.9: 1969)
        answer = api.get("/posts", params={"scheduled_from": loose}, headers=MARKETER)
        assert answer.status_code == 422, loose
        assert answer.json()["errors"][0]["loc"] == ["query", "scheduled_from"]
    naive = api.post(f"/posts/{post_id}/schedule", json={"scheduled_for": "2026-03-04T09:00:00"}, headers=MARKETER)
    assert naive.status_code == 422
    past = api.post(f"/posts/{post_id}/schedule", json={"scheduled_for": "2020-01-01T00:00:00Z"}, headers=MARKETER)
    assert past.status_code == 422
    assert api.delete(f"/posts/{post_id}", headers=MARKETER).json()["version"] == 4
    assert api.get(f"/posts/{post_id}", headers=MARKETER).json()["status"] == "deleted"
    assert api.patch(f"/posts/{post_id}", json={"text": "late"}, headers=MARKETER).status_code == 409


def test_metrics_deliveries_update_a_posts_engagement(api: TestClient, clock: Clock, platform: FakePlatform) -> None:
    account = connect(api)
    body = {"account_id": account["id"], "text": "新品", "scheduled_for": START.isoformat()}
    post_id = api.post("/posts", json=body, headers=MARKETER).json()["id"]
    Scheduler(api.app.state.social).run_once()  # type: ignore[attr-defined]
    metrics = {"type": "metrics", "post_id": "p-1", "likes": 12, "comments": 3, "shares": 4}
    payload = {"delivery_id": "m-1", "event": {**metrics, "measured_at": "2026-03-03T10:00:00Z"}}
    assert deliver(api, account, payload, at=NOW).status_code == 202
    older = {"delivery_id": "m-2", "event": {**metrics, "likes": 1, "measured_at": "2026-03-03T09:30:00Z"}}
    assert deliver(api, account, older, at=NOW).status_code == 202
    post = api.get(f"/posts/{post_id}", headers=MARKETER).json()
    assert post["engagement"] | {"measured_at": None} == {"likes": 12, "comments": 3, "shares": 4, "measured_at": None}
    unknown = {"delivery_id": "m-3", "event": {**metrics, "post_id": "nope", "measured_at": "2026-03-03T10:00:00Z"}}
    assert deliver(api, account, unknown, at=NOW).status_code == 404


def received(api: TestClient) -> tuple[dict[str, Any], str]:
    account = connect(api)
    response = deliver(api, account, mention_delivery(), at=NOW)
    return account, response.json()["interaction_id"]


def test_work_the_inbox_assign_reply_close(api: TestClient, platform: FakePlatform) -> None:
    _, interaction = received(api)
    url = f"/interactions/{interaction}"
    assert api.post(f"{url}/assign", json={"assignee": "li.na@example.com"}, headers=AGENT).status_code == 200
    reply = api.post(f"{url}/reply", json={"text": "很抱歉，我们马上处理。", "expected_version": 2}, headers=AGENT)
    assert reply.status_code == 200, reply.text
    assert list(platform.replies.values()) == [{"id": "r-1", "to": "m-1"}]
    assert api.post(f"{url}/close", headers=AGENT).status_code == 200
    row = api.get(url, headers=AGENT).json()
    assert (row["assignee"], row["replies"], row["status"]) == ("li.na@example.com", 1, "closed")
    assert api.post(f"{url}/reply", json={"text": "again"}, headers=AGENT).status_code == 409


def test_a_reply_the_platform_refuses_is_502_and_not_recorded(api: TestClient, platform: FakePlatform) -> None:
    _, interaction = received(api)
    platform.reply = _refuse  # type: ignore[method-assign,assignment]
    response = api.post(f"/interactions/{interaction}/reply", json={"text": "hi"}, headers=AGENT)
    assert response.status_code == 502
    assert api.get(f"/interactions/{interaction}", headers=AGENT).json()["replies"] == 0


def _refuse(*args: Any) -> str:
    raise ConnectorFailed("weibo answered HTTP 500")


def test_escalation_needs_a_linked_customer_and_happens_once(api: TestClient) -> None:
    _, interaction = received(api)
    url = f"/interactions/{interaction}"
    body = {"priority": "P2", "reason": "late delivery"}
    assert api.post(f"{url}/escalate", json=body, headers=AGENT).status_code == 409
    customer = str(uuid4())
    assert api.put(f"{url}/customer", json={"customer_id": customer}, headers=AGENT).status_code == 200
    assert api.post(f"{url}/escalate", json=body, headers=AGENT).status_code == 200
    assert api.post(f"{url}/escalate", json=body, headers=AGENT).status_code == 409
    row = api.get(url, headers=AGENT).json()
    assert (row["customer_id"], row["link_method"], row["escalated"], row["status"]) == (
        customer,
        "manual",
        True,
        "escalated",
    )
    assert api.post(f"{url}/escalate", json={"priority": "P9", "reason": "x"}, headers=AGENT).status_code == 422


def test_analysts_see_the_inbox_masked(api: TestClient) -> None:
    received(api)
    [row] = api.get("/interactions", headers=as_("analyst")).json()
    assert (row["text"], row["author_handle"], row["sentiment"]) == ("***", "@***", "negative")


def test_the_inbox_filters_by_sentiment_and_link(api: TestClient) -> None:
    received(api)
    assert len(api.get("/interactions", params={"sentiment": "negative"}, headers=AGENT).json()) == 1
    assert api.get("/interactions", params={"sentiment": "positive"}, headers=AGENT).json() == []
    assert len(api.get("/interactions", params={"linked": "false"}, headers=AGENT).json()) == 1


def test_openapi_documents_every_route(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/accounts", "/posts", "/interactions/{interaction_id}/escalate", "/webhooks/{account_id}"} <= set(paths)
    webhook = paths["/webhooks/{account_id}"]["post"]
    assert "requestBody" in webhook
    assert {"401", "409"} <= set(webhook["responses"])
