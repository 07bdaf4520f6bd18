"""Signed webhooks: valid, tampered, stale, replayed; each interaction stored once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.social import signing
from services.social.domain import WebhookRejected
from services.social.tests.apiclient import AGENT, MARKETER, client, connect, deliver, mention_delivery
from services.social.tests.conftest import START, Clock, FakePlatform

NOW = int(START.timestamp())


@pytest.fixture
def api(tmp_path: Path, clock: Clock, platform: FakePlatform) -> Iterator[TestClient]:
    with client(tmp_path, clock, platform) as test_client:
        yield test_client


@pytest.fixture
def account(api: TestClient) -> dict[str, Any]:
    return connect(api)


def inbox(api: TestClient) -> list[dict[str, Any]]:
    response = api.get("/interactions", headers=AGENT)
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.json()
    return rows


def test_verify_accepts_a_valid_signature() -> None:
    body = b'{"a": 1}'
    signing.verify(
        "s3", timestamp=str(NOW), signature=signing.sign("s3", NOW, body), body=body, now=START, tolerance=300
    )


@pytest.mark.parametrize(
    ("timestamp", "signature", "body"),
    [
        (str(NOW), signing.sign("s3", NOW, b'{"a": 1}'), b'{"a": 2}'),  # tampered body
        (str(NOW), signing.sign("other", NOW, b'{"a": 1}'), b'{"a": 1}'),  # wrong secret
        (str(NOW + 1), signing.sign("s3", NOW, b'{"a": 1}'), b'{"a": 1}'),  # tampered timestamp
        (str(NOW - 301), signing.sign("s3", NOW - 301, b'{"a": 1}'), b'{"a": 1}'),  # stale
        (str(NOW + 301), signing.sign("s3", NOW + 301, b'{"a": 1}'), b'{"a": 1}'),  # from the future
        (None, signing.sign("s3", NOW, b'{"a": 1}'), b'{"a": 1}'),  # no timestamp
        (str(NOW), None, b'{"a": 1}'),  # no signature
        ("yesterday", signing.sign("s3", NOW, b'{"a": 1}'), b'{"a": 1}'),  # not a number
    ],
)
def test_verify_rejects(timestamp: str | None, signature: str | None, body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        signing.verify("s3", timestamp=timestamp, signature=signature, body=body, now=START, tolerance=300)


def test_a_signed_mention_is_stored_with_its_sentiment(api: TestClient, account: dict[str, Any]) -> None:
    response = deliver(api, account, mention_delivery(), at=NOW)
    assert response.status_code == 202, response.text
    assert response.json()["outcome"] == "stored"
    [row] = inbox(api)
    assert (row["kind"], row["sentiment"], row["author_handle"], row["text"]) == (
        "mention",
        "negative",
        "@wang_fang",
        "客服太慢了，订单还没到！",
    )


def test_a_tampered_delivery_is_rejected_and_writes_nothing(api: TestClient, account: dict[str, Any]) -> None:
    raw = json.dumps(mention_delivery()).encode()
    headers = {signing.TIMESTAMP_HEADER: str(NOW), signing.SIGNATURE_HEADER: signing.sign("guess", NOW, raw)}
    assert api.post(f"/webhooks/{account['id']}", content=raw, headers=headers).status_code == 401
    assert deliver(api, account, mention_delivery(), at=NOW, secret="not-the-secret").status_code == 401
    assert inbox(api) == []


def test_a_stale_delivery_is_rejected(api: TestClient, account: dict[str, Any]) -> None:
    response = deliver(api, account, mention_delivery(), at=NOW - 3600)
    assert response.status_code == 401
    assert "tolerance" in response.json()["detail"]
    assert inbox(api) == []


def test_a_replayed_delivery_is_rejected(api: TestClient, account: dict[str, Any]) -> None:
    assert deliver(api, account, mention_delivery(), at=NOW).status_code == 202
    replay = deliver(api, account, mention_delivery(), at=NOW + 5)
    assert replay.status_code == 409
    assert replay.json()["error"] == "ReplayedDelivery"
    assert len(inbox(api)) == 1


def test_an_interaction_delivered_twice_is_stored_once(api: TestClient, account: dict[str, Any]) -> None:
    assert deliver(api, account, mention_delivery("d-1", "m-1"), at=NOW).status_code == 202
    again = deliver(api, account, mention_delivery("d-2", "m-1"), at=NOW)
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert len(inbox(api)) == 1


def test_an_invalid_body_is_422_and_writes_nothing(api: TestClient, account: dict[str, Any]) -> None:
    response = deliver(api, account, {"delivery_id": "d-1", "event": {"type": "mention"}}, at=NOW)
    assert response.status_code == 422
    assert deliver(api, account, mention_delivery("d-1"), at=NOW).status_code == 202, "the delivery id was not used"


def test_a_rotated_secret_replaces_the_old_one(api: TestClient, account: dict[str, Any]) -> None:
    rotated = api.post(f"/accounts/{account['id']}/secrets", json={"expected_version": 1}, headers=MARKETER)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["webhook_secret"] != account["webhook_secret"]
    assert deliver(api, account, mention_delivery("d-1"), at=NOW).status_code == 401
    assert deliver(api, rotated.json(), mention_delivery("d-1"), at=NOW).status_code == 202
    stale = api.post(f"/accounts/{account['id']}/secrets", json={"expected_version": 1}, headers=MARKETER)
    assert stale.status_code == 409


def test_unknown_account_is_404(api: TestClient, account: dict[str, Any]) -> None:
    other = {**account, "id": "00000000-0000-4000-8000-000000000000"}
    assert deliver(api, other, mention_delivery(), at=NOW).status_code == 404


def test_a_disconnected_account_takes_no_deliveries(api: TestClient, account: dict[str, Any]) -> None:
    assert api.delete(f"/accounts/{account['id']}", headers=MARKETER).status_code == 200
    assert deliver(api, account, mention_delivery(), at=NOW).status_code == 409
