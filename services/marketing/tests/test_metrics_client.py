"""Marketing asks analytics for metric conditions; failures become MetricsUnavailable (503), never a guess."""

from __future__ import annotations

import json
from uuid import uuid4

import httpx
import pytest

from services.marketing.metrics_client import AnalyticsMetrics, metrics_source
from services.marketing.rules import MetricCondition, MetricConditionRefused, MetricsUnavailable, NoMetrics
from services.marketing.settings import MarketingSettings
from shared.platform.auth import decode_token

SECRET = "k" * 40
A, B = uuid4(), uuid4()
HIGH = MetricCondition(metric="value_tier", op="in", values=["high_value"])


def source(handler: httpx.MockTransport) -> AnalyticsMetrics:
    return AnalyticsMetrics("http://analytics.test/", SECRET, transport=handler)


def test_the_condition_and_candidates_go_to_analytics_as_an_integration_call() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"matching": [str(A)]})

    assert source(httpx.MockTransport(answer)).matching(HIGH, {A, B}) == {A}
    request = seen[0]
    assert str(request.url) == "http://analytics.test/segments/customers"
    body = json.loads(request.content)
    assert (body["metric"], body["op"], body["values"]) == ("value_tier", "in", ["high_value"])
    assert sorted(body["candidates"]) == sorted([str(A), str(B)])
    principal = decode_token(SECRET, request.headers["Authorization"].removeprefix("Bearer "))
    assert set(principal.roles) == {"integration"}


def test_no_candidates_need_no_call() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise AssertionError("called")

    assert source(httpx.MockTransport(fail)).matching(HIGH, set()) == set()


@pytest.mark.parametrize("status", [401, 422, 500, 503])
def test_a_refusal_makes_metrics_unavailable(status: int) -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(status, text="no"))
    with pytest.raises(MetricsUnavailable, match=str(status)):
        source(transport).matching(HIGH, {A})


def test_an_unreachable_analytics_makes_metrics_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(MetricsUnavailable, match="unreachable"):
        source(httpx.MockTransport(down)).matching(HIGH, {A})


def test_without_an_analytics_url_metric_segments_stay_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(metrics_source(MarketingSettings(analytics_url=None)), NoMetrics)
    monkeypatch.setenv("CRM_JWT_SECRET", SECRET)
    configured = metrics_source(MarketingSettings(analytics_url="http://a:8010"))
    assert isinstance(configured, AnalyticsMetrics)
    assert configured.base_url == "http://a:8010"


def test_check_asks_analytics_with_no_candidates_and_relays_its_refusal() -> None:
    seen: list[dict[str, object]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        if seen[-1]["values"] == ["platinum"]:
            return httpx.Response(422, json={"detail": "value_tier: 'platinum' is not a tier"})
        return httpx.Response(200, json={"matching": []})

    metrics = source(httpx.MockTransport(answer))
    metrics.check(HIGH)
    with pytest.raises(MetricConditionRefused, match="platinum"):
        metrics.check(MetricCondition(metric="value_tier", op="in", values=["platinum"]))
    assert [body["candidates"] for body in seen] == [[], []]


def test_check_on_a_failing_analytics_is_unavailable_not_refused() -> None:
    with pytest.raises(MetricsUnavailable, match="500"):
        source(httpx.MockTransport(lambda r: httpx.Response(500))).check(HIGH)
