"""Report endpoints: every report as JSON, or as streamed CSV with `?format=csv`.

One route per report, registered from a table so each gets the same validation
(`ReportParams`: unknown parameters are a 422 naming them), roles and CSV handling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.analytics.api_customers import ERRORS, DbDep
from services.analytics.csvstream import csv_response, from_list
from services.analytics.reports import customers, marketing, pipeline, social, support
from services.analytics.reports.source import Db, Report, ReportParams, Window
from services.analytics.settings import MetricsSettings
from shared.platform.auth import Principal, require_roles

router = APIRouter(prefix="/reports", tags=["reports"])

Analyst = Annotated[Principal, require_roles("analyst")]
Build = Callable[[Db, Window], Awaitable[Report]]

REPORTS: dict[str, tuple[Build, str]] = {
    "kpis": (customers.kpis, "Headline KPIs: customers, revenue, AOV, repeat rate, stages, CLV"),
    "revenue": (customers.revenue, "Orders and revenue per period and currency"),
    "cohorts": (customers.cohorts, "Cohort retention by period of first purchase"),
    "lifecycle": (customers.lifecycle, "Customers by lifecycle stage and value tier"),
    "churn-rate": (customers.churn_rate, "Churn rate per period"),
    "acquisition": (marketing.acquisition, "CAC and ROI per channel and campaign, first- and last-touch"),
    "pipeline": (pipeline.pipeline, "Pipeline by stage, win rate, sales cycle, weighted forecast"),
    "campaigns": (marketing.campaigns, "Campaign funnel: sent, opened, clicked, converted"),
    "support": (support.support, "Support first response, resolution, SLA breach rate, CSAT, NPS"),
    "social": (social.social, "Social engagement and sentiment over time"),
}


def window(params: ReportParams, request: Request) -> Window:
    """The report window: `until` defaults to now (the only clock read; pass `until` to reproduce a report)."""
    rules: MetricsSettings = getattr(request.app.state, "metrics_settings", None) or MetricsSettings()
    return Window(
        period=params.period,
        since=params.since,
        until=params.until or datetime.now(UTC),
        currency=rules.currency,
        churned_days=rules.churned_days,
        conversion_days=rules.conversion_days,
    )


def _route(name: str, build: Build) -> Callable[..., Awaitable[dict[str, Any] | StreamingResponse]]:
    async def report(
        params: Annotated[ReportParams, Query()], request: Request, user: Analyst, db: DbDep
    ) -> dict[str, Any] | StreamingResponse:
        w = window(params, request)
        result = await build(db, w)
        if params.format == "csv":
            return csv_response(result.columns, from_list(result.rows), f"{name}.csv")
        meta = {"report": name, "period": w.period, "since": w.since, "until": w.until, "currency": w.currency}
        return meta | {"columns": list(result.columns), "rows": result.rows, "summary": result.summary}

    report.__doc__ = build.__doc__
    return report


for _name, (_build, _summary) in REPORTS.items():
    router.add_api_route(
        f"/{_name}",
        _route(_name, _build),
        methods=["GET"],
        summary=_summary,
        response_model=None,
        responses=ERRORS | {200: {"content": {"application/json": {}, "text/csv": {}}, "description": "The report."}},
        name=f"report_{_name.replace('-', '_')}",
    )
