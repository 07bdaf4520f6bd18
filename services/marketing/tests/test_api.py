"""The marketing API: roles, validation with nothing written, optimistic concurrency, tracking tokens."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from services.marketing.application import MarketingApplication
from services.marketing.main import create_app
from services.marketing.messages import message_id
from services.marketing.tests.conftest import SECRET, join, settings_for
from services.marketing.tokens import TokenSigner
from shared.platform.auth import AuthSettings, issue_token

JWT = "unit-test-jwt-secret-0123456789abcdef0123"
RULES = {"conditions": [{"attribute": "source", "values": ["web"]}]}
VARIANT: dict[str, Any] = {"name": "A", "subject": "Hi {{ customer.name }}", "html": "<p>{{ customer.name }}</p>"}


def auth(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(JWT, 'm@example.com', list(roles))}"}


@pytest.fixture
def client(app: MarketingApplication) -> TestClient:
    settings = settings_for(25)
    return TestClient(create_app(settings, AuthSettings(secret=JWT), marketing=app))


def segment(client: TestClient) -> str:
    created = client.post("/segments", json={"name": "web", "rules": RULES}, headers=auth("marketer"))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def campaign(client: TestClient, **extra: object) -> dict[str, object]:
    body = {"name": "春季", "channel": "email", "segment_id": segment(client), "variants": [VARIANT]} | extra
    created = client.post("/campaigns", json=body, headers=auth("marketer"))
    assert created.status_code == 201, created.text
    result: dict[str, object] = created.json()
    return result


def test_analysts_read_but_do_not_write(client: TestClient) -> None:
    assert client.post("/segments", json={"name": "x", "rules": RULES}, headers=auth("analyst")).status_code == 403
    assert client.get("/segments", headers=auth("analyst")).status_code == 200
    assert client.get("/campaigns", headers=auth("sales_rep")).status_code == 403
    assert client.get("/campaigns").status_code == 401


def test_preview_counts_and_masks_pii_for_analysts(client: TestClient, app: MarketingApplication) -> None:
    join(app, "张伟", "zhang.wei@example.cn")
    join(app, "No", "no@example.com", consent={"email": False})
    seg = segment(client)
    seen = client.get(f"/segments/{seg}/preview", headers=auth("analyst")).json()
    assert seen["count"] == 2
    assert seen["reachable"]["email"] == 1
    assert seen["excluded"]["email"] == {"no_consent": 1}
    assert {s["name"] for s in seen["sample"]} == {"张*", "N*"}
    full = client.get(f"/segments/{seg}/preview", headers=auth("marketer")).json()
    assert "zhang.wei@example.cn" in {s["email"] for s in full["sample"]}


def test_metric_segments_are_refused_until_analytics_serves_them(client: TestClient) -> None:
    rules = {"conditions": [{"metric": "value_tier", "op": "in", "values": ["high_value"]}]}
    seg = client.post("/segments", json={"name": "hv", "rules": rules}, headers=auth("marketer")).json()["id"]
    response = client.get(f"/segments/{seg}/preview", headers=auth("marketer"))
    assert response.status_code == 503
    assert "analytics" in response.json()["detail"]


def test_a_metric_condition_analytics_can_never_answer_is_a_422_when_saved(client: TestClient) -> None:
    rules = {"conditions": [{"metric": "clv", "op": "gte", "values": []}]}
    response = client.post("/segments", json={"name": "never", "rules": rules}, headers=auth("marketer"))
    assert response.status_code == 422
    assert "threshold" in response.text
    assert client.get("/segments", headers=auth("marketer")).json() == []


def test_bad_templates_and_splits_write_nothing(client: TestClient, app: MarketingApplication) -> None:
    seg = segment(client)
    before = app.recorder.max_notification_id()
    bad: list[dict[str, Any]] = [
        {"variants": [VARIANT | {"html": "{{ broken"}]},
        {"variants": [VARIANT, VARIANT]},
        {"variants": [{"name": "A", "subject": "s"}]},
        {"channel": "sms", "variants": [{"name": "A"}]},
        {"segment_id": str(uuid4())},
        {"variants": [VARIANT | {"weight": 0}]},
    ]
    for change in bad:
        body: dict[str, Any] = {"name": "x", "channel": "email", "segment_id": seg, "variants": [VARIANT]}
        body |= change
        response = client.post("/campaigns", json=body, headers=auth("marketer"))
        assert response.status_code in (404, 422), (change, response.text)
    assert app.recorder.max_notification_id() == before


def test_stale_versions_and_wrong_statuses_conflict(client: TestClient) -> None:
    created = campaign(client)
    cid = created["id"]
    assert (
        client.patch(
            f"/campaigns/{cid}", json={"name": "new", "expected_version": 1}, headers=auth("marketer")
        ).status_code
        == 200
    )
    stale = client.patch(f"/campaigns/{cid}", json={"name": "newer", "expected_version": 1}, headers=auth("marketer"))
    assert stale.status_code == 409
    assert stale.json()["error"] == "StaleVersion"
    assert client.post(f"/campaigns/{cid}/cancel", json={}, headers=auth("marketer")).status_code == 200
    again = client.post(f"/campaigns/{cid}/schedule", json={}, headers=auth("marketer"))
    assert again.status_code == 409
    assert again.json()["error"] == "WrongStatus"


def test_spend_is_exact_decimal_per_currency_and_idempotent(client: TestClient) -> None:
    cid = campaign(client)["id"]
    line = {"spend_id": str(uuid4()), "channel": "email", "amount": "0.10", "currency": "CNY"}
    for _ in range(2):
        assert client.post(f"/campaigns/{cid}/spend", json=line, headers=auth("marketer")).status_code == 201
    client.post(
        f"/campaigns/{cid}/spend", json=line | {"spend_id": str(uuid4()), "amount": "0.20"}, headers=auth("marketer")
    )
    report = client.get(f"/campaigns/{cid}/report", headers=auth("analyst")).json()
    assert report["spend"] == {"CNY": "0.30"}
    for bad in ({"currency": "cny"}, {"amount": "-1"}, {"amount": "NaN"}, {"channel": "tv"}):
        response = client.post(f"/campaigns/{cid}/spend", json=line | bad, headers=auth("marketer"))
        assert response.status_code == 422


def test_spend_follows_the_money_rules_sales_keeps(client: TestClient) -> None:
    """Minor units per currency, a known ISO 4217 code, below 10^15: what sales accepts, marketing accepts."""
    cid = campaign(client)["id"]

    def spend(amount: str, currency: str) -> Any:
        line = {"spend_id": str(uuid4()), "channel": "search", "amount": amount, "currency": currency}
        return client.post(f"/campaigns/{cid}/spend", json=line, headers=auth("marketer"))

    for amount, currency, words in (
        ("1.005", "USD", "more decimals than USD allows (2)"),
        ("100.5", "JPY", "more decimals than JPY allows (0)"),
        ("1000000000000000", "USD", "digits before the decimal point"),
        ("10.00", "XYZ", "not an ISO 4217 currency code"),
    ):
        response = spend(amount, currency)
        assert response.status_code == 422, (amount, currency)
        assert words in response.text
    assert [spend("1.005", "KWD").status_code, spend("100", "JPY").status_code] == [201, 201]
    report = client.get(f"/campaigns/{cid}/report", headers=auth("analyst")).json()
    assert report["spend"] == {"JPY": "100", "KWD": "1.005"}


def test_tracking_records_genuine_tokens_only(client: TestClient, app: MarketingApplication) -> None:
    customer = join(app, "Ada", "ada@example.com")
    cid = campaign(client)["id"]
    c = app.campaign(UUID(str(cid)))
    message = app.prepare(c, customer, "A")
    signer = TokenSigner(SECRET)
    before = app.recorder.max_notification_id()
    forged = TokenSigner("f" * 40).sign("click", message.id, "https://evil.example/")
    assert client.get(f"/t/click/{forged}", follow_redirects=False).status_code == 404
    assert client.get(f"/t/open/{signer.sign('click', message.id, 'https://x/')}").status_code == 404
    assert client.post(f"/unsubscribe/{signer.sign('open', message.id)}").status_code == 404
    assert app.recorder.max_notification_id() == before
    click = client.get(
        f"/t/click/{signer.sign('click', message.id, 'https://shop.example.com/a')}", follow_redirects=False
    )
    assert (click.status_code, click.headers["location"]) == (302, "https://shop.example.com/a")
    assert client.get(f"/t/open/{signer.sign('open', message.id)}").headers["content-type"] == "image/gif"
    assert client.post(f"/unsubscribe/{signer.sign('unsubscribe', message.id)}").status_code == 200
    stored = app.message(message_id(c.id, customer))
    assert stored is not None
    assert (stored.opened, stored.clicks, stored.unsubscribed) == (True, 1, True)
    assert app.view.reachable(customer, "email") is None


def test_the_unsubscribe_link_is_a_page_in_the_customers_language_and_only_the_button_acts(
    client: TestClient, app: MarketingApplication
) -> None:
    customer = join(app, "王芳", "wang@example.com")
    c = app.campaign(UUID(str(campaign(client)["id"])))
    message = app.prepare(c, customer, "A")
    token = TokenSigner(SECRET).sign("unsubscribe", message.id)
    zh = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
    page = client.get(f"/unsubscribe/{token}", headers=zh)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh">' in page.text
    assert "<title>退订</title>" in page.text
    assert f'<form method="post" action="/unsubscribe/{token}">' in page.text
    assert "电子邮件" in page.text
    assert "script" not in page.text  # works without JavaScript
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert app.view.reachable(customer, "email") is not None  # a link scanner's GET changes nothing
    done = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})  # RFC 8058, in English
    assert done.status_code == 200
    assert '<html lang="en">' in done.text
    assert "You will get no more e-mail messages from us." in done.text
    assert app.view.reachable(customer, "email") is None
    unknown = client.get(f"/unsubscribe/{TokenSigner('f' * 40).sign('unsubscribe', message.id)}", headers=zh)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    assert "此链接无效" in unknown.text
