"""`GET /jobs/{id}` and `GET /jobs`: long work (a refit) as a resource its client polls.

`POST /models/refit` answers 202 with the job and a `Location` header naming it; the
client reads the job until its `state` is `succeeded` (with a `result`) or `failed` (with
an `error`). See `jobstore` for why work is run this way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status

from services.analytics.jobstore import Job, JobStore
from shared.platform.auth import Principal, require_roles

Analyst = Annotated[Principal, require_roles("analyst")]
AUTH_ERRORS: dict[int | str, dict[str, str]] = {
    401: {"description": "Missing or invalid bearer token."},
    403: {"description": "The token lacks the analyst role."},
}

router = APIRouter(tags=["jobs"])


def get_job_store(request: Request) -> JobStore:
    """The process's job store (`create_app` sets it)."""
    store: JobStore = request.app.state.jobs
    return store


JobStoreDep = Annotated[JobStore, Depends(get_job_store)]


@router.get(
    "/jobs/{job_id}",
    summary="One job: state, progress, timings, result or error",
    responses=AUTH_ERRORS | {404: {"description": "No such job."}},
)
async def get_job(
    job_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="The id `POST /models/refit` returned.")],
    user: Analyst,
    store: JobStoreDep,
) -> Job:
    """The job as it stands; a job whose process died is reported `failed` with the reason."""
    job = await store.get(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}")
    return job


@router.get("/jobs", summary="The latest jobs, newest first", responses=AUTH_ERRORS)
async def list_jobs(user: Analyst, store: JobStoreDep, limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[Job]:
    """Running and finished jobs of every kind."""
    return await store.recent(limit)
