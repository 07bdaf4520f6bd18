"""`crm refit`: recompute metrics, refit CLV and retrain churn now, as a job, with a progress bar.

The refit runs in this process as a job of the analytics job store, under the same lock
as `POST /models/refit` and the scheduled `analytics-jobs` process: while one of those
runs, this command names it and exits 2. The API shows this run at `GET /jobs/{id}`.
Exit codes: 0 fitted, 1 the job failed (its error says why), 2 bad options or a refit
already running, 3 MongoDB unreachable.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from crm.progress import progress_bar
from crm.rebuild import CONFLICT, DIFFERENT, JsonOpt, _run, err
from services.analytics import jobs
from services.analytics.api_models import RefitRequest
from services.analytics.generations import Generations
from services.analytics.jobstore import Job, JobConflict, JobStore, Report
from services.analytics.settings import AnalyticsSettings, ModelSettings


def refit(
    calibration_end: Annotated[
        str | None, typer.Option(help="Last day of the calibration window (YYYY-MM-DD); default: today.")
    ] = None,
    currency: Annotated[str | None, typer.Option(help="Orders in this currency only, e.g. USD.")] = None,
    horizon_days: Annotated[int | None, typer.Option(help="CLV horizon in days.")] = None,
    margin: Annotated[float | None, typer.Option(help="Gross margin, 0 < margin <= 1.")] = None,
    discount_rate: Annotated[float | None, typer.Option(help="Yearly discount rate, 0..1.")] = None,
    churn_holdout_days: Annotated[int | None, typer.Option(help="Days after the cut that label churn.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute metrics, refit CLV and retrain churn on the active generation now; a progress bar until done."""
    try:
        end = date.fromisoformat(calibration_end) if calibration_end else None
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {calibration_end!r}") from exc
    asked = {
        "calibration_end": end,
        "currency": currency,
        "horizon_days": horizon_days,
        "margin": margin,
        "discount_rate": discount_rate,
        "churn_holdout_days": churn_holdout_days,
    }
    try:
        overrides = RefitRequest.model_validate(asked).model_dump(exclude_none=True, mode="json")
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    settings = AnalyticsSettings()
    models = ModelSettings.model_validate(settings.models.model_dump() | overrides)

    async def go(client: AsyncMongoClient[dict[str, Any]]) -> Job:
        generations = Generations(client, settings)
        db = generations.database(await generations.active())
        store = JobStore(client[settings.database])
        with progress_bar(quiet=as_json, unit="steps") as bar:
            task = bar.add_task("refit", total=len(jobs.REFIT_STAGES))

            async def work(report: Report) -> dict[str, Any]:
                def both(stage: str, done: int, total: int | None) -> None:
                    report(stage, done, total)
                    bar.update(task, description=f"refit: {stage}", completed=done, total=total)

                result = await jobs.refit(db, settings, datetime.now(UTC), models, progress=both)
                return asdict(result)

            return await store.run("refit", work, params=overrides, by="crm refit")

    try:
        job = _run(go)
    except JobConflict as exc:
        err.print(f"[red]conflict:[/] {exc}")
        raise typer.Exit(CONFLICT) from exc
    if as_json:
        typer.echo(json.dumps(job.model_dump(mode="json"), indent=2))
    elif job.state == "succeeded" and job.result is not None:
        r = job.result
        typer.echo(
            f"job {job.id} done in {job.seconds:.1f}s: metrics for {r['metrics_written']:,} customers, "
            f"CLV model {r['clv_model_id']} over {r['customers_scored']:,} customers, churn model "
            f"{r['churn_model_id']} ({'shipped' if r['churn_shipped'] else 'not shipped: P(alive) is used'})"
        )
    if job.state != "succeeded":
        err.print(f"[red]refit failed:[/] {job.error}")
        raise typer.Exit(DIFFERENT)
