"""Public events of the sales service on `crm.sales.v1` (sales automation).

`LeadConvertedV1` is choreography: the customer service registers the customer it
names, idempotently, under the id derived by `customer_id_for_lead`. Events about a
customer (opportunities, quotes, orders, conversion) are keyed by that customer;
lead and product events are keyed by their own aggregate and carry no personal data
(a lead's name, email and phone stay in the sales store, sealed with the lead's key).

Money is `Decimal` (a JSON string), currencies ISO 4217 codes, times UTC.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.events import topics
from shared.events.base import CustomerKeyedEvent, PublicEvent
from shared.events.timestamps import IsoDateTime

LEAD_CUSTOMER_NAMESPACE = UUID("5b0f7c1e-2f7a-4d4e-9a53-6c1d0e7b9a01")
"""Namespace of the uuid5 that turns a lead id into the id of the customer it becomes."""

IMPORTED_CUSTOMER_NAMESPACE = UUID("9d2e4f60-1b3a-4c5d-8e7f-a0b1c2d3e4f5")
"""Namespace of the uuid5 that turns `<source>:<external customer id>` of imported history into a customer id.

For the CDNOW data set the name is `cdnow:<5-digit customer id of the master file>`,
so the sample and the master file give the same customers.
"""

Currency = str
OrderSource = Literal["quote", "direct", "import"]


def customer_id_for_lead(lead_id: UUID) -> UUID:
    """The customer id a converted lead becomes: the same lead always gives the same customer."""
    return uuid.uuid5(LEAD_CUSTOMER_NAMESPACE, str(lead_id))


def customer_id_for_external(source: str, external_id: str) -> UUID:
    """The customer id of an imported customer: the same external id always gives the same customer."""
    return uuid.uuid5(IMPORTED_CUSTOMER_NAMESPACE, f"{source}:{external_id}")


class SalesEvent(PublicEvent):
    """Base of the sales stream's events that are not about one customer (leads, products)."""

    topic = topics.SALES


class SalesCustomerEvent(CustomerKeyedEvent):
    """Base of the sales stream's events about one customer."""

    topic = topics.SALES


class LeadConvertedV1(SalesCustomerEvent):
    """A qualified lead became a customer (and usually an opportunity); the customer service registers them."""

    event_type = "crm.sales.lead_converted.v1"

    lead_id: UUID
    opportunity_id: UUID | None = Field(default=None, description="The opportunity opened on conversion, if any.")
    name: str = Field(description="Contact's full name in any script.")
    company: str | None = None
    emails: list[str] = Field(default_factory=list, description="Normalised email addresses.")
    phones: list[str] = Field(default_factory=list, description="Phone numbers in E.164.")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 country code.")
    source_channel: str = Field(description="Channel the lead was captured from: web_form, api, csv_import, campaign.")
    campaign_id: UUID | None = Field(default=None, description="The campaign that produced the lead (attribution).")
    consent: dict[Literal["email", "sms", "phone", "social"], bool] = Field(
        default_factory=dict, description="Marketing consent the lead gave on capture, per channel."
    )
    converted_by: str = Field(description="Subject of the user who converted the lead.")
    converted_at: IsoDateTime


class LeadCapturedV1(SalesEvent):
    """A lead was captured from a channel (its personal data stays in the sales service)."""

    event_type = "crm.sales.lead_captured.v1"

    lead_id: UUID
    source_channel: str = Field(description="web_form, api, csv_import or campaign.")
    campaign_id: UUID | None = Field(default=None, description="The campaign that produced the lead (attribution).")
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 country code.")
    company: str | None = Field(default=None, description="The lead's organisation, if any.")
    captured_by: str = Field(description="Subject of the user or system that captured it.")
    captured_at: IsoDateTime


class LeadScoredV1(SalesEvent):
    """A lead's score changed (on capture, or on an engagement signal); the reasons add up to the score."""

    event_type = "crm.sales.lead_scored.v1"

    lead_id: UUID
    score: int = Field(ge=0, le=100, description="0 (cold) to 100 (hot).")
    reasons: list[str] = Field(description="One `rule +points` entry per rule that fired.")


class LeadAssignedV1(SalesEvent):
    """A lead got an owner (by territory, round-robin, or a manager's reassignment)."""

    event_type = "crm.sales.lead_assigned.v1"

    lead_id: UUID
    owner: str = Field(description="Subject (email) of the owning rep.")
    rule: Literal["territory", "round_robin", "capturer", "manual"] = Field(description="Why this owner.")


class LeadQualifiedV1(SalesEvent):
    """A rep judged the lead worth pursuing."""

    event_type = "crm.sales.lead_qualified.v1"

    lead_id: UUID
    qualified_by: str


class LeadDisqualifiedV1(SalesEvent):
    """A rep judged the lead not worth pursuing, with a reason."""

    event_type = "crm.sales.lead_disqualified.v1"

    lead_id: UUID
    reason: str
    disqualified_by: str


class OpportunityOpenedV1(SalesCustomerEvent):
    """A deal was opened for a customer."""

    event_type = "crm.sales.opportunity_opened.v1"

    opportunity_id: UUID
    name: str = Field(description="What is being sold, in any script.")
    amount: Decimal = Field(description="Expected deal amount (a decimal string).")
    currency: Currency = Field(description="ISO 4217 code.", pattern="^[A-Z]{3}$")
    stage: str = Field(description="Pipeline stage, e.g. prospecting.")
    probability: Decimal = Field(ge=0, le=1, description="Win probability 0..1.")
    expected_close_date: date
    owner: str = Field(description="Subject (email) of the owning rep.")
    campaign_id: UUID | None = Field(default=None, description="Source campaign (attribution).")
    lead_id: UUID | None = Field(default=None, description="The lead it was converted from, if any.")


class OpportunityStageChangedV1(SalesCustomerEvent):
    """A deal moved to another pipeline stage (its probability moves to the stage's default)."""

    event_type = "crm.sales.opportunity_stage_changed.v1"

    opportunity_id: UUID
    from_stage: str
    to_stage: str
    probability: Decimal = Field(ge=0, le=1)
    changed_at: IsoDateTime


class OpportunityUpdatedV1(SalesCustomerEvent):
    """A deal's amount, probability, close date or owner changed; `changed` names which."""

    event_type = "crm.sales.opportunity_updated.v1"

    opportunity_id: UUID
    changed: list[str]
    amount: Decimal | None = None
    probability: Decimal | None = Field(default=None, ge=0, le=1)
    expected_close_date: date | None = None
    owner: str | None = None


class OpportunityWonV1(SalesCustomerEvent):
    """A deal was won at its final amount."""

    event_type = "crm.sales.opportunity_won.v1"

    opportunity_id: UUID
    amount: Decimal = Field(description="Final amount (a decimal string).")
    currency: Currency = Field(pattern="^[A-Z]{3}$")
    won_at: IsoDateTime


class OpportunityLostV1(SalesCustomerEvent):
    """A deal was lost, with the reason and the competitor who won it, if known."""

    event_type = "crm.sales.opportunity_lost.v1"

    opportunity_id: UUID
    reason: str
    competitor: str | None = None
    lost_at: IsoDateTime


class OpportunityReopenedV1(SalesCustomerEvent):
    """A lost deal was reopened at a pipeline stage."""

    event_type = "crm.sales.opportunity_reopened.v1"

    opportunity_id: UUID
    stage: str
    probability: Decimal = Field(ge=0, le=1)


class ProductPrice(BaseModel):
    """A product's unit price in one currency."""

    model_config = ConfigDict(frozen=True)

    currency: Currency = Field(pattern="^[A-Z]{3}$")
    unit_price: Decimal


class ProductUpsertedV1(SalesEvent):
    """A price-book product was created or changed (the whole product is carried)."""

    event_type = "crm.sales.product_upserted.v1"

    product_id: UUID
    sku: str
    name: str
    prices: list[ProductPrice] = Field(description="Unit price per currency.")
    tax_rate: Decimal = Field(ge=0, le=1, description="e.g. 0.19 for 19 %.")
    active: bool


class QuoteLine(BaseModel):
    """One priced line of a quote; amounts are already rounded to the currency's minor unit."""

    model_config = ConfigDict(frozen=True)

    product_id: UUID
    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    net: Decimal = Field(description="quantity × unit price − discount.")
    tax: Decimal


class QuoteIssuedV1(SalesCustomerEvent):
    """A quote revision was issued (revision 1 on creation, +1 on each revision)."""

    event_type = "crm.sales.quote_issued.v1"

    quote_id: UUID
    opportunity_id: UUID
    revision: int = Field(ge=1)
    currency: Currency = Field(pattern="^[A-Z]{3}$")
    lines: list[QuoteLine]
    subtotal: Decimal = Field(description="Sum of line nets (a decimal string).")
    tax_total: Decimal = Field(description="Sum of line taxes (a decimal string).")
    total: Decimal = Field(description="subtotal + tax_total (a decimal string).")
    valid_until: date


class QuoteSentV1(SalesCustomerEvent):
    """The current revision of a quote was sent to the customer."""

    event_type = "crm.sales.quote_sent.v1"

    quote_id: UUID
    revision: int


class QuoteAcceptedV1(SalesCustomerEvent):
    """The customer accepted the current revision of a quote."""

    event_type = "crm.sales.quote_accepted.v1"

    quote_id: UUID
    revision: int
    total: Decimal
    currency: Currency = Field(pattern="^[A-Z]{3}$")


class QuoteRejectedV1(SalesCustomerEvent):
    """The customer rejected a quote."""

    event_type = "crm.sales.quote_rejected.v1"

    quote_id: UUID
    revision: int
    reason: str | None = None


class QuoteExpiredV1(SalesCustomerEvent):
    """A quote passed its valid-until date unanswered."""

    event_type = "crm.sales.quote_expired.v1"

    quote_id: UUID
    revision: int


class OrderPlacedV1(SalesCustomerEvent):
    """An order was placed (from an accepted quote, or directly)."""

    event_type = "crm.sales.order_placed.v1"

    order_id: UUID
    source: OrderSource
    quote_id: UUID | None = None
    currency: Currency = Field(pattern="^[A-Z]{3}$")
    total: Decimal = Field(description="Order total including tax (a decimal string).")
    placed_at: IsoDateTime = Field(description="When the customer ordered (the business date).")
    external_id: str | None = Field(default=None, description="Id in the system it was imported from.")


class OrderPaidV1(SalesCustomerEvent):
    """An order was paid in full."""

    event_type = "crm.sales.order_paid.v1"

    order_id: UUID
    amount: Decimal
    currency: Currency = Field(pattern="^[A-Z]{3}$")
    paid_at: IsoDateTime


class OrderShippedV1(SalesCustomerEvent):
    """An order left the warehouse."""

    event_type = "crm.sales.order_shipped.v1"

    order_id: UUID
    shipped_at: IsoDateTime


class OrderDeliveredV1(SalesCustomerEvent):
    """An order reached the customer."""

    event_type = "crm.sales.order_delivered.v1"

    order_id: UUID
    delivered_at: IsoDateTime


class OrderCancelledV1(SalesCustomerEvent):
    """An order was cancelled before shipment."""

    event_type = "crm.sales.order_cancelled.v1"

    order_id: UUID
    reason: str
    cancelled_at: IsoDateTime


class OrderRefundedV1(SalesCustomerEvent):
    """Part or all of a paid order was refunded (never more than was paid)."""

    event_type = "crm.sales.order_refunded.v1"

    order_id: UUID
    amount: Decimal = Field(description="This refund (a decimal string).")
    refunded_total: Decimal = Field(description="All refunds of the order so far (a decimal string).")
    currency: Currency = Field(pattern="^[A-Z]{3}$")
    reason: str | None = None
    refunded_at: IsoDateTime


class OrderImportedV1(SalesCustomerEvent):
    """A historical, already paid order was imported (one event per order; dates are the historical ones)."""

    event_type = "crm.sales.order_imported.v1"

    order_id: UUID
    external_id: str = Field(description="Id of the order in the source, e.g. `cdnow:00004:19970101:1`.")
    currency: Currency = Field(pattern="^[A-Z]{3}$")
    total: Decimal = Field(description="Amount paid (a decimal string).")
    quantity: int = Field(ge=0, description="Items in the order.")
    placed_at: IsoDateTime
    paid_at: IsoDateTime


EVENTS: tuple[type[PublicEvent], ...] = (
    LeadConvertedV1,
    LeadCapturedV1,
    LeadScoredV1,
    LeadAssignedV1,
    LeadQualifiedV1,
    LeadDisqualifiedV1,
    OpportunityOpenedV1,
    OpportunityStageChangedV1,
    OpportunityUpdatedV1,
    OpportunityWonV1,
    OpportunityLostV1,
    OpportunityReopenedV1,
    ProductUpsertedV1,
    QuoteIssuedV1,
    QuoteSentV1,
    QuoteAcceptedV1,
    QuoteRejectedV1,
    QuoteExpiredV1,
    OrderPlacedV1,
    OrderPaidV1,
    OrderShippedV1,
    OrderDeliveredV1,
    OrderCancelledV1,
    OrderRefundedV1,
    OrderImportedV1,
)
