"""Report endpoints: every report as JSON, or as streamed CSV with `?format=csv`.

One route per report, registered from a table so each gets the same validation
(`ReportParams`: unknown parameters are a 422 naming them), roles and CSV handling.
A report over the default window is served from its snapshot while that is exact
(`reports/snapshots.py`); the table says which watermarks each report reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.analytics.api_customers import ERRORS, DbDep
from services.analytics.csvstream import csv_response, from_list
from services.analytics.reports import customers, marketing, pipeline, scores, social, support
from services.analytics.reports.snapshots import Build, Served, Source, served
from services.analytics.reports.source import ReportParams, Window
from services.analytics.settings import MetricsSettings
from shared.platform.auth import Principal, require_roles

router = APIRouter(prefix="/reports", tags=["reports"])

Analyst = Annotated[Principal, require_roles("analyst")]
METRICS: tuple[Source, ...] = ("metrics",)
PROJECTED: tuple[Source, ...] = ("projected",)

REPORTS: dict[str, tuple[Build, tuple[Source, ...], str]] = {
    "kpis": (customers.kpis, METRICS, "Headline KPIs: customers, revenue, AOV, repeat rate, stages, CLV"),
    "revenue": (customers.revenue, PROJECTED, "Orders and revenue per period and currency"),
    "cohorts": (customers.cohorts, PROJECTED, "Cohort retention by period of first purchase"),
    "lifecycle": (customers.lifecycle, METRICS, "Customers by lifecycle stage and value tier"),
    "churn-rate": (customers.churn_rate, PROJECTED, "Churn rate per period"),
    "clv": (scores.clv, METRICS, "Predicted CLV: customers and value per band, mean, median, 90th percentile"),
    "churn-watch": (scores.churn_watch, METRICS, "The customers most likely to churn, with their value"),
    "acquisition": (
        marketing.acquisition,
        METRICS + PROJECTED,
        "CAC and ROI per channel and campaign, first- and last-touch",
    ),
    "pipeline": (pipeline.pipeline, PROJECTED, "Pipeline by stage, win rate, sales cycle, weighted forecast"),
    "campaigns": (marketing.campaigns, PROJECTED, "Campaign funnel: sent, opened, clicked, converted"),
    "support": (support.support, PROJECTED, "Support first response, resolution, SLA breach rate, CSAT, NPS"),
    "social": (social.social, PROJECTED, "Social engagement and sentiment over time"),
}


def window(params: ReportParams, request: Request) -> Window:
    """The report window: `until` defaults to now (the only clock read; pass `until` to reproduce a report)."""
    rules: MetricsSettings = getattr(request.app.state, "metrics_settings", None) or MetricsSettings()
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # what BSON keeps, so a snapshot says the same
    return Window(
        period=params.period,
        since=params.since,
        until=params.until or now,
        currency=rules.currency,
        churned_days=rules.churned_days,
        conversion_days=rules.conversion_days,
    )


def _route(
    name: str, build: Build, sources: tuple[Source, ...]
) -> Callable[..., Awaitable[dict[str, Any] | StreamingResponse]]:
    async def report(
        params: Annotated[ReportParams, Query()], request: Request, user: Analyst, db: DbDep
    ) -> dict[str, Any] | StreamingResponse:
        w = window(params, request)
        if params.since is None and params.until is None:
            answer = await served(db, name, w, sources, build)
        else:
            answer = Served(await build(db, w), w.until)
        result = answer.report
        if params.format == "csv":
            return csv_response(result.columns, from_list(result.rows), f"{name}.csv")
        meta = {"report": name, "period": w.period, "since": w.since, "until": w.until, "currency": w.currency}
        meta |= {"computed_at": answer.computed_at}
        return meta | {"columns": list(result.columns), "rows": result.rows, "summary": result.summary}

    report.__doc__ = build.__doc__
    return report


for _name, (_build, _sources, _summary) in REPORTS.items():
    router.add_api_route(
        f"/{_name}",
        _route(_name, _build, _sources),
        methods=["GET"],
        summary=_summary,
        response_model=None,
        responses=ERRORS | {200: {"content": {"application/json": {}, "text/csv": {}}, "description": "The report."}},
        name=f"report_{_name.replace('-', '_')}",
    )
