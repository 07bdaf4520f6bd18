"""Report endpoints: every report as JSON, or as streamed CSV with `?format=csv`.

One route per report, registered from a table so each gets the same validation
(`ReportParams`: unknown parameters are a 422 naming them), roles and CSV handling.
A report over the default window is served from its snapshot while that is exact
(`reports/snapshots.py`); the table says which watermarks each report reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse

from services.analytics import fxrates, jobresults
from services.analytics.api_customers import ERRORS, JOB_ACCEPTED, Db, DbDep
from services.analytics.api_jobs import JobStoreDep, start_job
from services.analytics.csvstream import csv_response, from_list
from services.analytics.jobstore import Job, Report, current_job
from services.analytics.reports.catalog import REPORTS, default_window
from services.analytics.reports.snapshots import Build, Served, served
from services.analytics.reports.source import ReportParams, Window
from services.analytics.settings import MetricsSettings
from services.analytics.watermarks import Source
from shared.platform.auth import Principal, require_roles

router = APIRouter(prefix="/reports", tags=["reports"])

Analyst = Annotated[Principal, require_roles("analyst")]


def rules_of(request: Request) -> MetricsSettings:
    """The reporting rules (`CRM_ANALYTICS_METRICS__*`) the app was created with."""
    rules: MetricsSettings = getattr(request.app.state, "metrics_settings", None) or MetricsSettings()
    return rules


def window(params: ReportParams, request: Request) -> Window:
    """The report window: `until` defaults to now (the only clock read; pass `until` to reproduce a report)."""
    w = default_window(rules_of(request), params.period, datetime.now(UTC))
    until = params.until or w.until
    if params.since is not None and params.since >= until:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "since"), "msg": "since is not before now"}]
        )
    return replace(w, since=params.since, until=until)


async def _answer(
    db: Db, name: str, w: Window, params: ReportParams, sources: tuple[Source, ...], build: Build, rates: Db
) -> Served:
    """The report over `w`: from its snapshot for the default window (no `since`/`until`), else computed now.

    Converted figures are added after, so a snapshot never depends on the rate table.
    """
    if params.since is None and params.until is None:
        answer = await served(db, name, w, sources, build)
    else:
        answer = Served(await build(db, w), w.until)
    if params.convert:
        table = await fxrates.load(rates, w.currency)
        return replace(answer, report=fxrates.convert(answer.report, w, table))
    return answer


def _meta(name: str, w: Window, answer: Served) -> dict[str, Any]:
    """What every answer of a report says about itself, beside its rows."""
    meta = {"report": name, "period": w.period, "since": w.since, "until": w.until, "currency": w.currency}
    return meta | {"computed_at": answer.computed_at, "columns": list(answer.report.columns)}


def _route(
    name: str, build: Build, sources: tuple[Source, ...]
) -> Callable[..., Awaitable[dict[str, Any] | StreamingResponse]]:
    async def report(
        params: Annotated[ReportParams, Query()], request: Request, user: Analyst, db: DbDep, store: JobStoreDep
    ) -> dict[str, Any] | StreamingResponse:
        w = window(params, request)
        answer = await _answer(db, name, w, params, sources, build, store.db)
        result = answer.report
        if params.format == "csv":
            return csv_response(result.columns, from_list(result.rows), f"{name}.csv")
        return _meta(name, w, answer) | {"rows": result.rows, "summary": result.summary}

    report.__doc__ = build.__doc__
    return report


def _job_route(name: str, build: Build, sources: tuple[Source, ...]) -> Callable[..., Awaitable[Job]]:
    async def report_job(
        params: Annotated[ReportParams, Query()],
        request: Request,
        response: Response,
        user: Analyst,
        db: DbDep,
        store: JobStoreDep,
    ) -> Job:
        w = window(params, request)

        async def work(progress: Report) -> dict[str, Any]:
            progress("computing", 0, None)
            answer = await _answer(db, name, w, params, sources, build, store.db)
            progress("keeping", 0, len(answer.report.rows))
            kept = await jobresults.keep(store.db, current_job(), from_list(answer.report.rows), datetime.now(UTC))
            meta: dict[str, Any] = jsonable_encoder(_meta(name, w, answer) | {"summary": answer.report.summary})
            return meta | kept

        asked = params.model_dump(mode="json", exclude_none=True, exclude={"format"})
        return await start_job(store, f"report-{name}", work, params=asked, by=user.subject, response=response)

    report_job.__doc__ = (
        f"Compute the {name} report as a job: for windows that take longer than a request should. "
        "Its rows are then read at `/jobs/{id}/result` (JSON or CSV) for 7 days."
    )
    return report_job


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
    router.add_api_route(
        f"/{_name}/jobs",
        _job_route(_name, _build, _sources),
        methods=["POST"],
        status_code=status.HTTP_202_ACCEPTED,
        summary=f"Start a job computing: {_summary[0].lower()}{_summary[1:]}",
        responses=ERRORS | JOB_ACCEPTED,
        name=f"report_job_{_name.replace('-', '_')}",
    )
