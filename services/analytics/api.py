"""The analytics query API: projections for analysts, services and integrations."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel

from services.analytics.projection import Customer360Projection
from shared.platform.auth import Principal, require_roles
from shared.platform.masking import mask_360

router = APIRouter(prefix="/customers", tags=["customer 360"])

Reader = Annotated[
    Principal,
    require_roles("analyst", "sales_rep", "sales_manager", "marketer", "support_agent", "integration"),
]


def get_projection(request: Request) -> Customer360Projection:
    """The projection the app was wired with."""
    projection: Customer360Projection = request.app.state.projection
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
    public = {k: v for k, v in doc.items() if k not in ("_id", "versions")}
    return public if sees_pii(user) else mask_360(public)


@router.get("/{customer_id}/360", summary="Customer 360: everything known about one customer")
async def customer_360(customer_id: UUID, user: Reader, projection: ProjectionDep) -> dict[str, Any]:
    """The customer's 360 document; analysts see PII masked."""
    doc = await projection.get(str(customer_id))
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no events seen for customer {customer_id}")
    return _for(user, doc)


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
