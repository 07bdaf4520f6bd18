"""HTTP routes for leads, opportunities, the team registry, boards and the forecast.

Routes are plain `def` (the `eventsourcing` library is synchronous); domain errors are
mapped to HTTP once, in `errors.py`. Lists come from the service's read model.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, status

from services.sales import access
from services.sales.application import SalesApplication
from services.sales.deal_commands import DealInput
from services.sales.domain import NotFound
from services.sales.forecast import Period, forecast
from services.sales.lead_commands import LeadInput
from services.sales.opportunities import Opportunity
from services.sales.schemas import (
    ERROR_RESPONSES,
    BoardColumn,
    ConvertedRef,
    DealCreate,
    ForecastPublic,
    LeadAssign,
    LeadConvert,
    LeadCreate,
    Loss,
    OpportunityChange,
    OpportunityCreate,
    Reason,
    RecordPublic,
    Ref,
    Reopen,
    RepUpsert,
    StageMove,
    Versioned,
    Win,
)
from services.sales.views import Row
from shared.platform.auth import Principal, require_roles
from shared.platform.masking import mask_email, mask_name, mask_phone
from shared.platform.paging import PageDep


def get_sales(request: Request) -> SalesApplication:
    """The application the app was wired with."""
    sales: SalesApplication = request.app.state.sales
    return sales


SalesDep = Annotated[SalesApplication, Depends(get_sales)]
Reader = Annotated[Principal, require_roles("sales_rep", "sales_manager", "analyst", "integration")]
Seller = Annotated[Principal, require_roles("sales_rep", "sales_manager", "integration")]
Capturer = Annotated[Principal, require_roles("sales_rep", "sales_manager", "marketer", "integration")]
Manager = Annotated[Principal, require_roles("sales_manager")]
Admin = Annotated[Principal, require_roles("admin")]

leads = APIRouter(prefix="/leads", tags=["leads"], responses=ERROR_RESPONSES)
opportunities = APIRouter(prefix="/opportunities", tags=["opportunities"], responses=ERROR_RESPONSES)
team = APIRouter(prefix="/reps", tags=["team"], responses=ERROR_RESPONSES)
reports = APIRouter(tags=["views"], responses=ERROR_RESPONSES)


def public(row: Row, user: Principal) -> RecordPublic:
    """A view row; analysts see a lead's name, email and phone masked."""
    data: dict[str, Any] = dict(row.data)
    if row.kind == "lead" and user.roles <= {"analyst"}:
        data.update(
            name=mask_name(data.get("name")),
            email=mask_email(data["email"]) if data.get("email") else None,
            phone=mask_phone(data["phone"]) if data.get("phone") else None,
        )
    return RecordPublic(
        id=row.id, kind=row.kind, version=row.version, owner=row.owner, customer_id=row.customer_id, data=data
    )


def visible(sales: SalesApplication, user: Principal, kind: str) -> list[Row]:
    """Rows of `kind` the caller may see."""
    views = sales.views.catch_up()
    keeps = sales.settings.capturer_keeps_access
    return [r for r in views.of_kind(kind) if access.can_read(views, user, r, keeps)]


def one(sales: SalesApplication, user: Principal, record_id: UUID, kind: str) -> RecordPublic:
    """One visible row, else 404."""
    views = sales.views.catch_up()
    row = views.rows.get(record_id)
    if row is None or row.kind != kind or not access.can_read(views, user, row, sales.settings.capturer_keeps_access):
        raise NotFound(kind, record_id)
    return public(row, user)


@leads.post("", status_code=status.HTTP_201_CREATED, summary="Capture a lead")
def capture_lead(body: LeadCreate, sales: SalesDep, user: Capturer) -> RecordPublic:
    """Capture a lead: refused (409) if an open lead has the same email or phone; scored and assigned."""
    lead = sales.capture_lead(LeadInput(**body.model_dump()), user)
    # The capturer sees what they captured, even when the rules gave it to another rep.
    return public(sales.views.catch_up().rows[lead.id], user)


@leads.get("", summary="My leads")
def list_leads(
    sales: SalesDep, user: Reader, page: PageDep, lead_status: Annotated[str | None, Query(alias="status")] = None
) -> list[RecordPublic]:
    """Leads the caller may see (a rep's own, a manager's team's), best score first, a page at a time."""
    rows = [r for r in visible(sales, user, "lead") if lead_status is None or r.data["status"] == lead_status]
    return [public(r, user) for r in page.of(rows, key=lambda r: (-r.data["score"], str(r.id)))]


@leads.get("/{lead_id}", summary="One lead")
def read_lead(lead_id: UUID, sales: SalesDep, user: Reader) -> RecordPublic:
    """A lead with its score and the reasons for it."""
    return one(sales, user, lead_id, "lead")


@leads.post("/{lead_id}/assign", summary="Reassign a lead")
def reassign_lead(lead_id: UUID, body: LeadAssign, sales: SalesDep, user: Manager) -> Ref:
    """Give the lead to another active rep (managers, for their team)."""
    lead = sales.reassign_lead(lead_id, body.owner, user, body.expected_version)
    return Ref(id=lead.id, version=lead.version)


@leads.post("/{lead_id}/qualify", summary="Qualify a lead")
def qualify_lead(lead_id: UUID, body: Versioned, sales: SalesDep, user: Seller) -> Ref:
    """Mark an open lead worth pursuing."""
    lead = sales.qualify_lead(lead_id, user, body.expected_version)
    return Ref(id=lead.id, version=lead.version)


@leads.post("/{lead_id}/disqualify", summary="Disqualify a lead")
def disqualify_lead(lead_id: UUID, body: Reason, sales: SalesDep, user: Seller) -> Ref:
    """Close a lead as not worth pursuing, with the reason."""
    lead = sales.disqualify_lead(lead_id, body.reason, user, body.expected_version)
    return Ref(id=lead.id, version=lead.version)


@leads.post("/{lead_id}/convert", summary="Convert a lead")
def convert_lead(lead_id: UUID, body: LeadConvert, sales: SalesDep, user: Seller) -> ConvertedRef:
    """Convert a qualified lead: the customer service registers the customer; a deal may be opened."""
    deal = DealInput(**body.opportunity.model_dump()) if body.opportunity else None
    lead, opportunity = sales.convert_lead(lead_id, deal, user, body.expected_version)
    assert lead.customer_id is not None
    return ConvertedRef(
        id=lead.id,
        version=lead.version,
        customer_id=lead.customer_id,
        opportunity_id=opportunity.id if opportunity else None,
    )


@opportunities.post("", status_code=status.HTTP_201_CREATED, summary="Open an opportunity")
def open_opportunity(body: OpportunityCreate, sales: SalesDep, user: Seller) -> Ref:
    """Open a deal for a customer at the first pipeline stage (or the given one)."""
    deal = DealInput(**body.model_dump(include=set(DealCreate.model_fields)))
    opportunity = sales.open_opportunity(body.customer_id, deal, user, body.owner, body.campaign_id)
    return Ref(id=opportunity.id, version=opportunity.version)


@opportunities.get("", summary="My open opportunities")
def list_opportunities(
    sales: SalesDep, user: Reader, page: PageDep, deal_status: Annotated[str, Query(alias="status")] = "open"
) -> list[RecordPublic]:
    """Deals the caller may see, by expected close date, a page at a time."""
    rows = [r for r in visible(sales, user, "opportunity") if r.data["status"] == deal_status]
    return [public(r, user) for r in page.of(rows, key=lambda r: (str(r.data["close_date"] or ""), str(r.id)))]


@opportunities.get("/board", summary="Pipeline board by stage")
def pipeline_board(sales: SalesDep, user: Reader) -> list[BoardColumn]:
    """Open deals the caller may see (a rep's own, a manager's team), one column per stage."""
    rows = [r for r in visible(sales, user, "opportunity") if r.data["status"] == "open"]
    return [
        BoardColumn(stage=stage, deals=[public(r, user) for r in rows if r.data["stage"] == stage])
        for stage in sales.settings.pipeline.names
    ]


@opportunities.get("/{opportunity_id}", summary="One opportunity")
def read_opportunity(opportunity_id: UUID, sales: SalesDep, user: Reader) -> dict[str, Any]:
    """A deal with its full stage history."""
    deal = sales.read_for(Opportunity, opportunity_id, user)
    fields = ("customer_id", "name", "amount", "currency", "stage", "probability", "close_date", "owner")
    extra = ("status", "history", "lost_reason", "competitor", "campaign_id", "lead_id")
    return {"id": deal.id, "version": deal.version} | {f: getattr(deal, f) for f in fields + extra}


@opportunities.post("/{opportunity_id}/stage", summary="Move to a stage")
def move_stage(opportunity_id: UUID, body: StageMove, sales: SalesDep, user: Seller) -> Ref:
    """Move an open deal to a configured stage; its probability becomes the stage's default."""
    deal = sales.move_opportunity(opportunity_id, body.stage, user, body.expected_version)
    return Ref(id=deal.id, version=deal.version)


@opportunities.patch("/{opportunity_id}", summary="Change amount, probability, close date or owner")
def change_opportunity(opportunity_id: UUID, body: OpportunityChange, sales: SalesDep, user: Seller) -> Ref:
    """Change an open deal; only managers change the owner."""
    fields = body.model_dump(exclude={"expected_version"}, exclude_unset=True)
    deal = sales.change_opportunity(opportunity_id, user, body.expected_version, **fields)
    return Ref(id=deal.id, version=deal.version)


@opportunities.post("/{opportunity_id}/win", summary="Win")
def win(opportunity_id: UUID, body: Win, sales: SalesDep, user: Seller) -> Ref:
    """Close as won at the final amount."""
    deal = sales.win_opportunity(opportunity_id, body.amount, user, body.expected_version)
    return Ref(id=deal.id, version=deal.version)


@opportunities.post("/{opportunity_id}/lose", summary="Lose")
def lose(opportunity_id: UUID, body: Loss, sales: SalesDep, user: Seller) -> Ref:
    """Close as lost, with the reason and the competitor."""
    deal = sales.lose_opportunity(opportunity_id, body.reason, body.competitor, user, body.expected_version)
    return Ref(id=deal.id, version=deal.version)


@opportunities.post("/{opportunity_id}/reopen", summary="Reopen a lost deal")
def reopen(opportunity_id: UUID, body: Reopen, sales: SalesDep, user: Seller) -> Ref:
    """Reopen a lost deal at a stage."""
    deal = sales.reopen_opportunity(opportunity_id, body.stage, user, body.expected_version)
    return Ref(id=deal.id, version=deal.version)


@team.put("/{subject}", summary="Register or change a rep")
def upsert_rep(subject: str, body: RepUpsert, sales: SalesDep, user: Admin) -> Ref:
    """Add a member to the team registry (drives assignment and team visibility)."""
    rep = sales.register_rep(subject, **body.model_dump())
    return Ref(id=rep.id, version=rep.version)


@team.get("", summary="The team registry")
def list_reps(sales: SalesDep, user: Reader, page: PageDep) -> list[dict[str, Any]]:
    """Every rep with team, territories, manager flag and status, by subject, a page at a time."""
    return page.of(sales.views.catch_up().reps.values(), key=lambda r: (str(r["subject"]),))


@reports.get("/forecast", summary="Forecast per owner and period")
def read_forecast(sales: SalesDep, user: Reader, period: Annotated[Period, Query()] = "month") -> list[ForecastPublic]:
    """Weighted pipeline, commit and best case per owner and month or quarter, per currency."""
    rows = forecast(
        visible(sales, user, "opportunity"),
        period=period,
        commit_threshold=Decimal(str(sales.settings.commit_threshold)),
        best_case_threshold=Decimal(str(sales.settings.best_case_threshold)),
    )
    return [ForecastPublic(**vars(r)) for r in rows]


@reports.get("/customers/{customer_id}/orders", summary="Orders of a customer")
def customer_orders(customer_id: UUID, sales: SalesDep, user: Reader, page: PageDep) -> list[RecordPublic]:
    """The customer's orders the caller may see, oldest first, a page at a time."""
    views = sales.views.catch_up()
    owners = access.visible_owners(views, user)
    rows = [r for r in views.of_customer(customer_id, "order") if owners is None or r.owner in owners]
    return [public(r, user) for r in page.of(rows, key=lambda r: (str(r.data["placed_at"]), str(r.id)))]
