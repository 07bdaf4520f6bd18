"""Request and response bodies of the sales API, split by role (create, change, public)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["web_form", "api", "csv_import", "campaign"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Versioned(_Body):
    """Optimistic concurrency: the version the caller decided on (409 if it moved on)."""

    expected_version: int | None = Field(default=None, ge=1, description="Omit to skip the check.")


class LeadCreate(_Body):
    """A lead captured from a channel; at least an email or a phone (E.164, or national with the default region)."""

    name: str = Field(min_length=1, max_length=200, examples=["王芳"])
    company: str | None = Field(default=None, max_length=200, examples=["深圳电子有限公司"])
    email: str | None = Field(default=None, max_length=320, examples=["wang.fang@example.cn"])
    phone: str | None = Field(default=None, max_length=40, examples=["+8613712345678"])
    country: str | None = Field(default=None, min_length=2, max_length=2, examples=["CN"])
    source: Channel = "api"
    campaign_id: UUID | None = Field(default=None, description="The campaign that produced the lead.")
    consent: dict[Literal["email", "sms", "phone", "social"], bool] = Field(
        default_factory=dict,
        examples=[{"email": True}],
        description="Marketing consent given on capture; it goes to the customer on conversion.",
    )


class LeadAssign(Versioned):
    """Give the lead to another rep of the team registry."""

    owner: str = Field(min_length=3, max_length=320)


class Reason(Versioned):
    """Why (disqualification, loss, cancellation, rejection)."""

    reason: str = Field(min_length=1, max_length=500)


class DealCreate(_Body):
    """An opportunity: what, how much in which currency, expected close date."""

    name: str = Field(min_length=1, max_length=200, examples=["年度许可证"])
    amount: Decimal = Field(ge=0, examples=["12000.00"])
    currency: str = Field(min_length=3, max_length=3, examples=["CNY"])
    expected_close_date: date
    stage: str | None = Field(default=None, description="Defaults to the first pipeline stage.")


class LeadConvert(Versioned):
    """Convert a qualified lead; with `opportunity`, a deal is opened for the new customer."""

    opportunity: DealCreate | None = None


class OpportunityCreate(DealCreate):
    """A deal for an existing customer."""

    customer_id: UUID
    owner: str | None = Field(default=None, description="Managers may open a deal for a rep of their team.")
    campaign_id: UUID | None = None


class StageMove(Versioned):
    """Move to a configured pipeline stage."""

    stage: str = Field(min_length=1, max_length=40, examples=["proposal"])


class OpportunityChange(Versioned):
    """Fields to change; omitted ones keep their value."""

    amount: Decimal | None = Field(default=None, ge=0)
    probability: Decimal | None = Field(default=None, ge=0, le=1)
    expected_close_date: date | None = None
    owner: str | None = None


class Win(Versioned):
    """Close as won; `amount` is the final amount (defaults to the current one)."""

    amount: Decimal | None = Field(default=None, ge=0)


class Loss(Reason):
    """Close as lost."""

    competitor: str | None = Field(default=None, max_length=200)


class Reopen(Versioned):
    """Reopen a lost deal at a stage (default: the first)."""

    stage: str | None = None


class RepUpsert(_Body):
    """A member of the sales team; territories are ISO countries or configured regions (EMEA, APAC, AMER)."""

    name: str = Field(min_length=1, max_length=200)
    team: str = Field(min_length=1, max_length=100, examples=["china-east"])
    territories: list[str] = Field(default_factory=list, max_length=100, examples=[["CN", "HK"]])
    manager: bool = Field(default=False, description="Managers see their team's records and take no leads.")
    active: bool = True


class ProductUpsert(_Body):
    """A price-book product (found by SKU)."""

    name: str = Field(min_length=1, max_length=200, examples=["标准许可证"])
    prices: dict[str, Decimal] = Field(min_length=1, examples=[{"EUR": "99.00", "JPY": "13000"}])
    tax_rate: Decimal = Field(ge=0, le=1, examples=["0.19"])
    active: bool = True


class LineCreate(_Body):
    """A quote or order line; the price book's price unless `unit_price` is given."""

    product_id: UUID
    quantity: Decimal = Field(gt=0, examples=["3"])
    discount_percent: Decimal = Field(default=Decimal(0), ge=0, le=100, examples=["10"])
    unit_price: Decimal | None = Field(default=None, ge=0)


class QuoteCreate(_Body):
    """A quote for an opportunity, in its currency."""

    opportunity_id: UUID
    lines: list[LineCreate] = Field(min_length=1, max_length=200)
    valid_until: date


class QuoteRevise(Versioned):
    """The next revision's lines and validity."""

    lines: list[LineCreate] = Field(min_length=1, max_length=200)
    valid_until: date


class QuoteAnswer(Versioned):
    """Reject with an optional reason."""

    reason: str | None = Field(default=None, max_length=500)


class OrderCreate(_Body):
    """An order placed directly (e.g. a web shop); `external_id` makes retries safe."""

    customer_id: UUID
    currency: str = Field(min_length=3, max_length=3)
    lines: list[LineCreate] = Field(min_length=1, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)


class Payment(Versioned):
    """Full payment (defaults to the order total)."""

    amount: Decimal | None = Field(default=None, gt=0)


class Refund(Versioned):
    """A partial or full refund (never more than paid)."""

    amount: Decimal = Field(gt=0)
    reason: str | None = Field(default=None, max_length=500)


class Ref(BaseModel):
    """Where a command left a record."""

    id: UUID
    version: int


class ConvertedRef(Ref):
    """The converted lead, its customer and the opportunity opened."""

    customer_id: UUID
    opportunity_id: UUID | None


class RecordPublic(BaseModel):
    """A record as the views show it."""

    id: UUID
    kind: str
    version: int
    owner: str | None
    customer_id: UUID | None
    data: dict[str, Any]


class BoardColumn(BaseModel):
    """One pipeline stage of a board and its deals."""

    stage: str
    deals: list[RecordPublic]


class ForecastPublic(BaseModel):
    """One owner's forecast for one period in one currency (see the service README for the rules)."""

    owner: str
    period: str
    currency: str
    pipeline: Decimal
    weighted: Decimal
    commit: Decimal
    best_case: Decimal
    won: Decimal
    deals: int


class RejectedRow(BaseModel):
    """A row that was not imported."""

    line: int
    reason: str


class ImportReportPublic(BaseModel):
    """What an import did: rows read, imported, skipped as already imported, rejected with reasons."""

    rows: int
    imported: int
    skipped: int
    rejected: list[RejectedRow]


class Timestamped(BaseModel):
    """A time in UTC."""

    at: datetime


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such record (or not visible to the caller)"},
    409: {
        "description": "Stale `expected_version`, a duplicate (`existing_id` names it), or a rule of the record's state"
    },
}
