"""The analytics query API: projections for analysts, services and integrations."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel

from services.analytics.pointintime import customer_as_of
from services.analytics.projection import TIMELINE_INDEX, Customer360Projection
from shared.events.timestamps import IsoDateTime
from shared.platform.auth import Principal, require_roles
from shared.platform.masking import mask_360

router = APIRouter(prefix="/customers", tags=["customer 360"])

Reader = Annotated[
    Principal,
    require_roles("analyst", "sales_rep", "sales_manager", "marketer", "support_agent", "integration"),
]


async def get_projection(request: Request) -> Customer360Projection:
    """The projection of the active generation (the app's `projections` follows switches)."""
    projection: Customer360Projection = await request.app.state.projections.current()
    return projection


ProjectionDep = Annotated[Customer360Projection, Depends(get_projection)]


class TimelinePage(BaseModel):
    """One page of a customer's timeline; pass `next` as `after` for the following page."""

    items: list[dict[str, Any]]
    next: str | None


def sees_pii(user: Principal) -> bool:
    """Analysts see customers masked, unless another role of theirs lets them see PII."""
    return "analyst" not in user.roles or user.has_any("sales_rep", "sales_manager", "marketer", "support_agent")


def _for(user: Principal, doc: dict[str, Any]) -> dict[str, Any]:
    public = {k: v for k, v in doc.items() if k not in ("_id", "versions", TIMELINE_INDEX)}
    return public if sees_pii(user) else mask_360(public)


@router.get(
    "/{customer_id}/360",
    summary="Customer 360: everything known about one customer, now or at a past moment",
    responses={
        404: {"description": "No event about this customer (up to `as_of`, when given)."},
        422: {"description": "`as_of` is not a timezone-aware ISO 8601 time."},
    },
)
async def customer_360(
    customer_id: UUID,
    user: Reader,
    projection: ProjectionDep,
    as_of: Annotated[
        IsoDateTime | None,
        Query(
            description="Answer from the events up to this time (inclusive), e.g. `2026-01-31T23:59:59Z`.",
            examples=["2026-01-31T23:59:59Z"],
        ),
    ] = None,
) -> dict[str, Any]:
    """The customer's 360 document; analysts see PII masked.

    With `as_of`, the 360 is refolded from the customer's timeline up to that moment.
    """
    if as_of is None:
        doc = await projection.get(str(customer_id))
    else:
        doc = await customer_as_of(projection, str(customer_id), as_of)
    if doc is None:
        seen = "" if as_of is None else f" up to {as_of.isoformat()}"
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no events seen for customer {customer_id}{seen}")
    return _for(user, doc) | ({"as_of": as_of.isoformat()} if as_of is not None else {})


@router.get("/{customer_id}/timeline", summary="Every event about one customer, in time order")
async def timeline(
    customer_id: UUID,
    user: Reader,
    projection: ProjectionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[str | None, Query(description="Cursor from the previous page's `next`.")] = None,
) -> TimelinePage:
    """A page of the customer's timeline (event data hidden from analysts)."""
    entries = await projection.timeline_page(str(customer_id), limit=limit, after=after)
    items = [{("id" if k == "_id" else k): v for k, v in e.items()} for e in entries]
    if not sees_pii(user):
        items = [i | {"data": {}} for i in items]
    cursor = f"{entries[-1]['time']}|{entries[-1]['_id']}" if len(entries) == limit else None
    return TimelinePage(items=items, next=cursor)
