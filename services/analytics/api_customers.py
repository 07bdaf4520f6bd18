"""The analyst customer list and the metric filter marketing's segments call.

Both read `customer_metrics` only: it holds no personal data (ids, country, metrics), so
analysts see it unmasked, and one collection means simple queries FerretDB runs well.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from pymongo.asynchronous.database import AsyncDatabase

from services.analytics import jobresults, watermarks
from services.analytics.api import ProjectionDep
from services.analytics.api_jobs import JobStoreDep, start_job
from services.analytics.csvstream import csv_response
from services.analytics.filters import (
    BadCursor,
    CustomerQuery,
    MetricFilter,
    days_since,
    encode_cursor,
    field_value,
    last_purchase_bounds,
)
from services.analytics.jobstore import Job, Report, current_job
from services.analytics.metrics import METRICS
from shared.platform.auth import Principal, require_roles

router = APIRouter(tags=["customer metrics"])

Analyst = Annotated[Principal, require_roles("analyst")]
SegmentCaller = Annotated[Principal, require_roles("analyst", "integration", "marketer")]
Db = AsyncDatabase[dict[str, Any]]

COLUMNS = (
    "id", "country", "lifecycle_stage", "value_tier", "rfm_score", "recency_days", "frequency", "monetary",
    "order_count", "revenue", "currency", "revenue_by_currency", "orders_by_currency", "first_purchase_at",
    "last_purchase_at", "clv", "p_alive", "expected_purchases", "expected_order_value", "churn_risk", "metrics_as_of",
)  # fmt: skip
FLAT = {
    "rfm_score": "rfm.score",
    "frequency": "rfm.frequency",
    "monetary": "rfm.monetary",
    "clv": "clv.clv",
    "p_alive": "clv.p_alive",
    "expected_purchases": "clv.expected_purchases",
    "expected_order_value": "clv.expected_order_value",
    "churn_risk": "churn.risk",
    "id": "_id",
}

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "A query parameter is unknown or invalid; the message names it."},
}
JOB_LOCATION = {"description": "`/jobs/{id}` of the job.", "schema": {"type": "string"}}
JOB_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "The job, started: read it at `Location` until it ends, then its rows at `/jobs/{id}/result`.",
        "headers": {"Location": JOB_LOCATION},
    },
    409: {
        "description": "The same job is already running: the detail names it, `Location` points to it.",
        "headers": {"Location": JOB_LOCATION},
    },
}


def get_db(projection: ProjectionDep) -> Db:
    """The database of the active projection generation."""
    db: Db = projection.customers.database
    return db


DbDep = Annotated[Db, Depends(get_db)]


@dataclass(frozen=True)
class ReadAt:
    """What every row of one answer shares: when it was read, and when the metrics were computed as of."""

    now: datetime
    metrics_as_of: str | None

    @classmethod
    async def of(cls, db: Db, now: datetime) -> ReadAt:
        """`now`, and the metrics' `as_of` (one lookup by `_id`)."""
        return cls(now, await watermarks.metrics_as_of(db))


def utcnow() -> datetime:
    """The time recency is counted to (a dependency, so tests can fix it)."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(utcnow)]


def flat(doc: dict[str, Any], at: ReadAt) -> dict[str, Any]:
    """One list row: the metric fields, nested sections flattened to columns, recency counted to now."""
    row = {column: field_value(doc, FLAT.get(column, column)) for column in COLUMNS}
    row["recency_days"] = days_since(doc.get("last_purchase_at"), at.now)
    row["metrics_as_of"] = at.metrics_as_of
    return row


class CustomerPage(BaseModel):
    """One page of customers; pass `next` as `cursor` for the following page."""

    items: list[dict[str, Any]] = Field(
        json_schema_extra={"example": [{"id": "5b3f0a4e-7a43-4d8e-9a1e-3f2b7c6d5e4f", "lifecycle_stage": "active"}]}
    )
    next: str | None


def _invalid(name: str, message: str) -> HTTPException:
    detail = [{"loc": ["query", name], "msg": message, "type": "value_error"}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


async def _rows(
    db: Db, query: dict[str, Any], sort: list[tuple[str, int]], at: ReadAt
) -> AsyncIterator[dict[str, Any]]:
    async for doc in db[METRICS].find(query).sort(sort).batch_size(1000):
        yield flat(doc, at)


@router.get(
    "/customers",
    summary="List customers by any metric: filter, sort, paginate, CSV",
    response_model=CustomerPage,
    responses=ERRORS | {200: {"content": {"text/csv": {}}, "description": "A page (JSON) or every match (CSV)."}},
)
async def list_customers(
    params: Annotated[CustomerQuery, Query()], user: Analyst, db: DbDep, now: Now, request: Request, response: Response
) -> CustomerPage | StreamingResponse:
    """Customers matching every filter, sorted by a metric; `format=csv` streams all matches.

    The next page's cursor is `next` in the body and, as on every list of the platform,
    `X-Next-Cursor` and `Link: <...>; rel="next"` (pass it as `cursor` or `after`).
    """
    at = await ReadAt.of(db, now)
    try:
        query = params.after_cursor(params.to_mongo(at.now))
    except BadCursor as exc:
        raise _invalid("cursor", str(exc)) from exc
    if params.format == "csv":
        return csv_response(COLUMNS, _rows(db, query, params.mongo_sort(), at), "customers.csv")
    docs = [d async for d in db[METRICS].find(query).sort(params.mongo_sort()).limit(params.limit)]
    cursor = encode_cursor(docs[-1], params) if len(docs) == params.limit else None
    if cursor is not None:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "after")]
        response.headers["X-Next-Cursor"] = cursor
        response.headers["Link"] = f'<{request.url.path}?{urlencode([*kept, ("after", cursor)])}>; rel="next"'
    return CustomerPage(items=[flat(d, at) for d in docs], next=cursor)


class SegmentQuery(BaseModel):
    """One metric condition of a marketing segment, asked for a set of candidate customers."""

    metric: Literal["lifecycle_stage", "value_tier", "rfm_segment", "churn_risk", "clv", "days_since_last_purchase"]
    op: Literal["in", "not_in", "gte", "lte"]
    values: list[str] = Field(default_factory=list, max_length=20, description="For in / not_in.")
    threshold: float | None = Field(default=None, description="For gte / lte.")
    candidates: list[UUID] = Field(max_length=100_000, description="The customers to test.")

    model_config = {
        "json_schema_extra": {
            "example": {"metric": "value_tier", "op": "in", "values": ["high_value"], "candidates": []},
        }
    }


class SegmentAnswer(BaseModel):
    """The candidates for which the condition holds."""

    matching: list[UUID]


CONDITION_FIELDS = {"churn_risk": "churn.risk", "clv": "clv.clv"}
CHUNK = 500
"""Candidates per `$in` query: keeps each query small for FerretDB."""


def condition_filter(q: SegmentQuery, now: datetime) -> dict[str, Any]:
    """The MongoDB filter of one metric condition (validated against the metric's kind); days count to `now`."""
    field = CONDITION_FIELDS.get(q.metric, q.metric)
    if q.op in ("in", "not_in"):
        if not q.values:
            raise _invalid("values", f"op {q.op!r} needs values")
        values: list[Any] = q.values
        if q.metric in ("lifecycle_stage", "value_tier"):
            MetricFilter.model_validate({q.metric: q.values})  # raises on an unknown stage or tier
        elif q.metric != "rfm_segment":
            raise _invalid("op", f"metric {q.metric!r} is numeric: use gte or lte")
        return {field: {"$in": values}}  # not_in is answered as the complement of in
    if q.threshold is None:
        raise _invalid("threshold", f"op {q.op!r} needs a threshold")
    if q.metric in ("lifecycle_stage", "value_tier", "rfm_segment"):
        raise _invalid("op", f"metric {q.metric!r} is categorical: use in or not_in")
    if q.metric == "days_since_last_purchase":
        low, high = (q.threshold, None) if q.op == "gte" else (None, q.threshold)
        return {"last_purchase_at": last_purchase_bounds(low, high, now)}
    return {field: {"$gte" if q.op == "gte" else "$lte": q.threshold}}


@router.post(
    "/segments/customers",
    summary="Which candidates meet one metric condition (marketing segments)",
    tags=["segments"],
    responses=ERRORS,
)
async def segment_customers(body: SegmentQuery, user: SegmentCaller, db: DbDep, now: Now) -> SegmentAnswer:
    """Marketing's metric conditions: lifecycle, tier, RFM cell, churn risk, CLV, days since last purchase."""
    try:
        condition = condition_filter(body, now)
    except ValueError as exc:
        raise _invalid(body.metric, str(exc)) from exc
    ids = sorted({str(c) for c in body.candidates})
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        query = {"_id": {"$in": ids[start : start + CHUNK]}, "merged_into": None, **condition}
        found |= {d["_id"] async for d in db[METRICS].find(query, {"_id": 1})}
    # A customer analytics has no stage for (never purchased, not yet seen) is "not in" any list.
    matching = set(ids) - found if body.op == "not_in" else found
    return SegmentAnswer(matching=sorted(UUID(c) for c in matching))


@router.post(
    "/customers/exports",
    summary="Start a job exporting every customer matching the filters (the list's CSV, kept for 7 days)",
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS | JOB_ACCEPTED,
)
async def export_customers(
    params: Annotated[CustomerQuery, Query()],
    user: Analyst,
    db: DbDep,
    now: Now,
    store: JobStoreDep,
    response: Response,
) -> Job:
    """The same filters and sort as `GET /customers`; the rows are read later at `/jobs/{id}/result?format=csv`.

    At 100,000 customers the export reads the whole metrics collection: as a job it runs
    whether or not the client waits, and the file can be fetched again without recomputing.
    """
    at = await ReadAt.of(db, now)
    try:
        query = params.after_cursor(params.to_mongo(at.now))
    except BadCursor as exc:
        raise _invalid("cursor", str(exc)) from exc

    async def work(progress: Report) -> dict[str, Any]:
        progress("exporting", 0, None)
        kept = await jobresults.keep(store.db, current_job(), _rows(db, query, params.mongo_sort(), at), at.now)
        return {"columns": list(COLUMNS), "read_at": at.now.isoformat(), "metrics_as_of": at.metrics_as_of} | kept

    asked = params.model_dump(mode="json", exclude_none=True, exclude={"format", "limit"})
    return await start_job(store, "export-customers", work, params=asked, by=user.subject, response=response)
