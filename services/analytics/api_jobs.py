"""`GET /jobs/{id}`, `GET /jobs` and `GET /jobs/{id}/result`: long work as a resource its client polls.

`POST /models/refit`, `POST /reports/{name}/jobs` and `POST /customers/exports` answer 202
with the job and a `Location` header naming it; the client reads the job until its
`state` is `succeeded` (with a `result`) or `failed` (with an `error`). A job that
produced rows (a report, an export) serves them at `/jobs/{id}/result`, as JSON or CSV,
for `jobresults.KEEP`. See `jobstore` for why work is run this way.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from services.analytics import jobresults
from services.analytics.csvstream import csv_response
from services.analytics.jobstore import Job, JobConflict, JobStore, Work
from shared.platform.auth import Principal, require_roles
from shared.platform.paging import PageDep

Analyst = Annotated[Principal, require_roles("analyst")]
router = APIRouter(tags=["jobs"])
KEPT_JOBS = 10_000
"""The list pages through the newest this many jobs (older ones stay readable at `/jobs/{id}`)."""


def get_job_store(request: Request) -> JobStore:
    """The process's job store (`create_app` sets it)."""
    store: JobStore = request.app.state.jobs
    return store


JobStoreDep = Annotated[JobStore, Depends(get_job_store)]


async def start_job(
    store: JobStore, kind: str, work: Work, *, params: dict[str, Any], by: str, response: Response
) -> Job:
    """Start `work` as a job of `kind` and point `Location` at it; 409 naming the running one if there is one."""
    try:
        job = await store.start(kind, work, params=params, by=by)
    except JobConflict as exc:
        location = {"Location": f"/jobs/{exc.running.id}"}
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc), headers=location) from exc
    response.headers["Location"] = f"/jobs/{job.id}"
    return job


JobId = Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="The id the job's `POST` returned.")]


@router.get(
    "/jobs/{job_id}",
    summary="One job: state, progress, timings, result or error",
    responses={404: {"description": "No such job."}},
)
async def get_job(job_id: JobId, user: Analyst, store: JobStoreDep) -> Job:
    """The job as it stands; a job whose process died is reported `failed` with the reason."""
    job = await store.get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}")
    return job


@router.get("/jobs", summary="The latest jobs, newest first")
async def list_jobs(user: Analyst, store: JobStoreDep, page: PageDep) -> list[Job]:
    """Running and finished jobs of every kind, newest first, a page at a time (the newest 10,000)."""
    jobs = await store.recent(KEPT_JOBS)
    return page.of(jobs, key=lambda job: (job.created_at.timestamp(), job.id), reverse=True)


@router.get(
    "/jobs/{job_id}/result",
    summary="The rows a finished report or export job produced, as JSON or CSV",
    response_model=None,
    responses={
        200: {
            "description": "`{columns, rows}` (JSON, streamed) or every row as CSV (UTF-8 with BOM).",
            "content": {"application/json": {}, "text/csv": {}},
        },
        404: {"description": "No such job, or a job that produces no rows (a refit: its result is the job's)."},
        409: {"description": "The job is still running, or failed (the detail gives its error)."},
        410: {"description": "The rows expired (kept 7 days) or were removed: run the job again."},
    },
)
async def job_result(
    job_id: JobId,
    user: Analyst,
    store: JobStoreDep,
    format: Annotated[Literal["json", "csv"], Query(description="csv streams every row.")] = "json",
) -> StreamingResponse:
    """The job's rows, read back by `_id` chunk after chunk; never recomputed."""
    job = await store.get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}")
    if job.state == "running":
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} is still running ({job.progress.stage})")
    if job.state == "failed":
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} failed: {job.error}")
    result = job.result or {}
    if "chunks" not in result:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"job {job_id} ({job.kind}) produced no rows")
    if not await jobresults.exists(store.db, job_id):
        raise HTTPException(status.HTTP_410_GONE, f"the rows of job {job_id} expired: run it again")
    columns: list[str] = list(result.get("columns") or [])
    rows = jobresults.read(store.db, job_id, int(result["chunks"]))
    if format == "csv":
        return csv_response(columns, rows, f"{job.kind}-{job_id}.csv")
    return StreamingResponse(_json_rows(columns, rows), media_type="application/json")


async def _json_rows(columns: Sequence[str], rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """`{"columns": [...], "rows": [...]}` written row by row: an export never sits whole in memory."""
    yield f'{{"columns": {json.dumps(list(columns), ensure_ascii=False)}, "rows": ['.encode()
    first = True
    async for row in rows:
        yield (("" if first else ",") + json.dumps(row, ensure_ascii=False)).encode()
        first = False
    yield b"]}"
