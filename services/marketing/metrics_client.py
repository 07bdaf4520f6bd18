"""The analytics query API as marketing's `MetricsSource`: metric segment conditions over HTTP.

Marketing asks analytics (`POST /segments/customers`, role `integration`, a JWT signed
with the shared `CRM_JWT_SECRET`) which candidates meet one metric condition. If
analytics is not configured, unreachable or failing, evaluating the segment raises
`MetricsUnavailable` (HTTP 503): a campaign never goes to a guessed audience.
"""

from __future__ import annotations

from uuid import UUID

import httpx

from services.marketing.rules import (
    MetricCondition,
    MetricConditionRefused,
    MetricsSource,
    MetricsUnavailable,
    NoMetrics,
)
from services.marketing.settings import MarketingSettings
from shared.platform.auth import AuthSettings, issue_token

SUBJECT = "marketing@services.crm"


class AnalyticsMetrics:
    """Answers metric conditions by asking the analytics service, one request per condition."""

    def __init__(
        self, base_url: str, secret: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None
    ):
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout = timeout
        self.transport = transport

    def matching(self, condition: MetricCondition, candidates: set[UUID]) -> set[UUID]:
        """The candidates analytics says meet `condition`."""
        if not candidates:
            return set()
        response = self._ask(condition, sorted(str(c) for c in candidates))
        if response.status_code != httpx.codes.OK:
            raise MetricsUnavailable(
                f"analytics refused metric {condition.metric!r}: {response.status_code} {response.text}"
            )
        return {UUID(c) for c in response.json()["matching"]}

    def check(self, condition: MetricCondition) -> None:
        """Ask analytics with no candidates: it validates the condition (values it knows) and matches nobody."""
        response = self._ask(condition, [])
        if response.status_code == httpx.codes.UNPROCESSABLE_ENTITY:
            raise MetricConditionRefused(f"analytics refuses metric condition {condition.metric!r}: {_why(response)}")
        if response.status_code != httpx.codes.OK:
            raise MetricsUnavailable(f"analytics cannot check metric {condition.metric!r}: {response.status_code}")

    def _ask(self, condition: MetricCondition, candidates: list[str]) -> httpx.Response:
        """`POST /segments/customers` as marketing (role integration); unreachable is `MetricsUnavailable`."""
        body = condition.model_dump(mode="json") | {"candidates": candidates}
        token = issue_token(self.secret, SUBJECT, ["integration"])
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                return client.post(
                    f"{self.base_url}/segments/customers", json=body, headers={"Authorization": f"Bearer {token}"}
                )
        except httpx.HTTPError as exc:
            raise MetricsUnavailable(f"analytics at {self.base_url} is unreachable: {exc}") from exc


def _why(response: httpx.Response) -> str:
    """Analytics' own words for a 422 (its `detail`), else the body."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:300]
    return str(detail)[:300]


def metrics_source(settings: MarketingSettings) -> MetricsSource:
    """Analytics when `CRM_MARKETING_ANALYTICS_URL` is set, else the source that refuses (503)."""
    if not settings.analytics_url:
        return NoMetrics()
    return AnalyticsMetrics(settings.analytics_url, AuthSettings().secret.get_secret_value())
