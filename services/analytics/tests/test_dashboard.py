"""The dashboard page: served without data, self-contained (no CDN), locked down by its CSP."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.analytics.main import create_app
from services.analytics.settings import AnalyticsSettings
from shared.platform.auth import AuthSettings
from shared.platform.kafka import KafkaSettings


@pytest.fixture
def api() -> Iterator[TestClient]:
    auth = AuthSettings(secret=SecretStr("unit-test-secret-0123456789abcdef0123"))
    app = create_app(AnalyticsSettings(), auth, KafkaSettings())
    with TestClient(app) as client:
        yield client


def test_the_page_is_html_with_every_panel(api: TestClient) -> None:
    response = api.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for panel in ("kpis", "revenue", "cohorts", "lifecycle", "tiers", "pipeline", "clv", "churn", "customer"):
        assert f'id="{panel}"' in response.text


def test_nothing_is_loaded_from_another_origin(api: TestClient) -> None:
    html = api.get("/dashboard").text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert [u for u in re.findall(r"https?://[^\s\"'`]+", html) if u != "http://www.w3.org/2000/svg"] == []


def test_the_policy_allows_exactly_the_inline_script_and_style(api: TestClient) -> None:
    response = api.get("/dashboard")
    policy = response.headers["content-security-policy"]
    script = re.search(r"<script>(.*)</script>", response.text, re.S)
    assert script is not None
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["referrer-policy"] == "no-referrer", "a ?token= must not leak through the Referer"
