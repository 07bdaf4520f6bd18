"""HTTP routes of the customer service: parse, call the application, return.

Routes are plain `def`: the `eventsourcing` library is synchronous, so FastAPI runs
them in its thread pool. Domain errors are mapped to HTTP once, in `errors.py`.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status

from services.customer.application import CustomerApplication
from services.customer.schemas import (
    ERROR_RESPONSES,
    REGISTER_EXAMPLES,
    UPDATE_EXAMPLES,
    Channel,
    ConsentChange,
    ContactKind,
    ContactPointCreate,
    CustomerCreate,
    CustomerPublic,
    CustomerRef,
    CustomerSummaryPublic,
    CustomerUpdate,
    DuplicatePublic,
    InteractionCreate,
    InteractionRef,
    MergeRequest,
)
from shared.platform.auth import Principal, require_roles

router = APIRouter(prefix="/customers", tags=["customers"], responses=ERROR_RESPONSES)


def get_customers(request: Request) -> CustomerApplication:
    """The application the app was wired with."""
    customers: CustomerApplication = request.app.state.customers
    return customers


CustomersDep = Annotated[CustomerApplication, Depends(get_customers)]
Reader = Annotated[Principal, require_roles("sales_rep", "sales_manager", "support_agent", "marketer", "integration")]
Writer = Annotated[Principal, require_roles("sales_rep", "sales_manager", "support_agent", "integration")]
ConsentWriter = Annotated[
    Principal, require_roles("sales_rep", "sales_manager", "support_agent", "marketer", "integration")
]
DataSteward = Annotated[Principal, require_roles("sales_manager")]
Eraser = Annotated[Principal, require_roles("admin")]


@router.post("", status_code=status.HTTP_201_CREATED)
def register_customer(
    body: Annotated[CustomerCreate, Body(openapi_examples=REGISTER_EXAMPLES)], customers: CustomersDep, user: Writer
) -> CustomerRef:
    """Register a new customer (idempotent when the client supplies the id)."""
    fields = body.model_dump(exclude={"id"})
    customer_id = customers.register(**fields, customer_id=body.id)
    return CustomerRef(id=customer_id, version=customers.get(customer_id).version)


@router.get("")
def search_customers(
    customers: CustomersDep,
    user: Reader,
    response: Response,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the name (any script) or of an email address.")
    ] = None,
    email: Annotated[str | None, Query(min_length=3, max_length=320, json_schema_extra={"format": "email"})] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    after: Annotated[
        str | None, Query(max_length=1000, description="The cursor of the next page (`X-Next-Cursor` of the last).")
    ] = None,
) -> list[CustomerSummaryPublic]:
    """Find active customers by name, email, phone or tag, a page at a time.

    When more match, the answer carries `X-Next-Cursor` (pass it as `after`) and a
    `Link: <...>; rel="next"` header (RFC 8288); the last page carries neither.
    """
    hits = customers.search(text=q, email=email, phone=phone, tag=tag, limit=limit + 1, after=after)
    if len(hits) > limit:
        hits = hits[:limit]
        cursor = customers.directory.cursor(hits[-1])
        query = {k: v for k, v in {"q": q, "email": email, "phone": phone, "tag": tag}.items() if v is not None}
        response.headers["X-Next-Cursor"] = cursor
        response.headers["Link"] = f'</customers?{urlencode(query | {"limit": limit, "after": cursor})}>; rel="next"'
    return [CustomerSummaryPublic(**{**vars(h), "emails": h.emails, "phones": h.phones, "tags": h.tags}) for h in hits]


@router.get("/{customer_id}")
def read_customer(customer_id: UUID, customers: CustomersDep, user: Reader) -> CustomerPublic:
    """A customer's current state (also for erased or merged ones, without PII)."""
    return CustomerPublic.of(customers.get(customer_id))


@router.patch("/{customer_id}")
def update_customer(
    customer_id: UUID,
    body: Annotated[CustomerUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
    customers: CustomersDep,
    user: Writer,
) -> CustomerRef:
    """Change profile fields."""
    fields = body.model_dump(exclude={"expected_version"}, exclude_unset=True)
    version = customers.update_profile(customer_id, expected_version=body.expected_version, **fields)
    return CustomerRef(id=customer_id, version=version)


@router.post("/{customer_id}/contact-points", status_code=status.HTTP_201_CREATED)
def add_contact_point(
    customer_id: UUID, body: ContactPointCreate, customers: CustomersDep, user: Writer
) -> CustomerRef:
    """Add an email or phone."""
    version = customers.add_contact_point(
        customer_id, expected_version=body.expected_version, kind=body.kind, value=body.value
    )
    return CustomerRef(id=customer_id, version=version)


@router.delete("/{customer_id}/contact-points/{kind}/{value}")
def remove_contact_point(
    customer_id: UUID,
    kind: ContactKind,
    value: str,
    customers: CustomersDep,
    user: Writer,
    expected_version: Annotated[int | None, Query(ge=1)] = None,
) -> CustomerRef:
    """Remove an email or phone (the last one stays)."""
    version = customers.remove_contact_point(customer_id, expected_version=expected_version, kind=kind, value=value)
    return CustomerRef(id=customer_id, version=version)


@router.post("/{customer_id}/interactions", status_code=status.HTTP_201_CREATED)
def record_interaction(
    customer_id: UUID, body: InteractionCreate, customers: CustomersDep, user: Writer
) -> InteractionRef:
    """Record a call, email, meeting, visit or note."""
    recorded = customers.record_interaction(
        customer_id,
        expected_version=body.expected_version,
        kind=body.kind,
        summary=body.summary,
        occurred_at=body.occurred_at,
        recorded_by=user.subject,
    )
    return InteractionRef(id=customer_id, version=recorded.version, interaction_id=recorded.interaction_id)


@router.put("/{customer_id}/consent/{channel}")
def change_consent(
    customer_id: UUID, channel: Channel, body: ConsentChange, customers: CustomersDep, user: ConsentWriter
) -> CustomerRef:
    """Grant or withdraw marketing consent for a channel."""
    version = customers.change_consent(
        customer_id, expected_version=body.expected_version, channel=channel, granted=body.granted
    )
    return CustomerRef(id=customer_id, version=version)


@router.get("/{customer_id}/duplicates")
def find_duplicates(
    customer_id: UUID,
    customers: CustomersDep,
    user: Reader,
    threshold: Annotated[float, Query(ge=0.5, le=1.0, description="Minimum fuzzy name similarity.")] = 0.85,
) -> list[DuplicatePublic]:
    """Customers that are likely the same person: same email or phone, or a similar name."""
    found = customers.find_duplicates(customer_id, name_threshold=threshold)
    return [DuplicatePublic(id=d.id, score=d.score, reasons=list(d.reasons)) for d in found]


@router.post("/{customer_id}/merge")
def merge_customers(customer_id: UUID, body: MergeRequest, customers: CustomersDep, user: DataSteward) -> CustomerRef:
    """Merge a duplicate into this customer; the duplicate then points here."""
    customers.merge(survivor_id=customer_id, merged_id=body.merged_id, expected_versions=body.expected_versions)
    return CustomerRef(id=customer_id, version=customers.get(customer_id).version)


@router.delete("/{customer_id}", status_code=status.HTTP_204_NO_CONTENT)
def erase_customer(customer_id: UUID, customers: CustomersDep, user: Eraser) -> Response:
    """Erase the customer (GDPR): their PII is removed and they take no more commands."""
    customers.erase(customer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
