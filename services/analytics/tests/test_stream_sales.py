"""Folding sales events into the 360: orders, exact revenue, refunds, open deals; idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from services.analytics import customer360
from shared.events import EventEnvelope, PublicEvent
from shared.events import sales as s

CID = UUID("5b3f0a4e-7a43-4d8e-9a1e-3f2b7c6d5e4f")
T0 = datetime(1997, 1, 1, tzinfo=UTC)


def project(*events: PublicEvent) -> customer360.Document:
    doc = customer360.new_document(str(CID))
    for event in events:
        envelope = EventEnvelope.wrap(event, source="/crm/sales", aggregate_id=uuid4(), aggregate_version=1, time=T0)
        for _ in range(2):  # a redelivery changes nothing
            if not customer360.is_applied(doc, envelope):
                doc = customer360.fold(doc, envelope, event)
    return doc


def imported(total: str, day: int) -> s.OrderImportedV1:
    at = datetime(1997, 1, day, tzinfo=UTC)
    return s.OrderImportedV1(
        customer_id=CID,
        order_id=uuid4(),
        external_id=f"x{day}",
        currency="USD",
        total=Decimal(total),
        quantity=1,
        placed_at=at,
        paid_at=at,
    )


def test_imported_orders_count_once_and_sum_exactly() -> None:
    doc = project(imported("0.10", 3), imported("0.20", 1))
    assert doc["sales"]["order_count"] == 2
    assert doc["sales"]["revenue"] == {"USD": "0.30"}
    assert doc["sales"]["first_order_at"].startswith("1997-01-01")
    assert doc["sales"]["last_order_at"].startswith("1997-01-03")


def test_deals_and_paid_orders_and_refunds_and_the_conversion_land_in_the_sales_section() -> None:
    deal, order, lead, at = uuid4(), uuid4(), uuid4(), datetime(2026, 3, 1, tzinfo=UTC)
    doc = project(
        s.LeadConvertedV1(
            customer_id=CID, lead_id=lead, name="李娜", source_channel="campaign", converted_by="r", converted_at=at
        ),
        s.OpportunityOpenedV1(
            customer_id=CID,
            opportunity_id=deal,
            name="D",
            amount=Decimal("100.00"),
            currency="EUR",
            stage="prospecting",
            probability=Decimal("0.1"),
            expected_close_date=at.date(),
            owner="r",
        ),
        s.OpportunityStageChangedV1(
            customer_id=CID,
            opportunity_id=deal,
            from_stage="prospecting",
            to_stage="proposal",
            probability=Decimal("0.5"),
            changed_at=at,
        ),
        s.OrderPlacedV1(
            customer_id=CID, order_id=order, source="quote", currency="EUR", total=Decimal("318.09"), placed_at=at
        ),
        s.OrderPaidV1(customer_id=CID, order_id=order, amount=Decimal("318.09"), currency="EUR", paid_at=at),
        s.OrderRefundedV1(
            customer_id=CID,
            order_id=order,
            amount=Decimal("18.09"),
            refunded_total=Decimal("18.09"),
            currency="EUR",
            refunded_at=at,
        ),
    )
    sales = doc["sales"]
    assert sales["converted_from"]["source_channel"] == "campaign"
    assert "李娜" not in str(sales)
    assert sales["open_opportunities"][str(deal)]["stage"] == "proposal"
    assert (sales["order_count"], sales["revenue"], sales["refunds"]) == (1, {"EUR": "318.09"}, {"EUR": "18.09"})
    won = s.OpportunityWonV1(customer_id=CID, opportunity_id=deal, amount=Decimal(90), currency="EUR", won_at=at)
    after = customer360.fold(doc, wrap(won), won)["sales"]
    assert (after["open_opportunities"], after["won_opportunities"]) == ({}, 1)


def wrap(event: PublicEvent) -> EventEnvelope:
    return EventEnvelope.wrap(event, source="/crm/sales", aggregate_id=uuid4(), aggregate_version=9, time=T0)


def test_a_reopened_deal_is_open_again_at_its_new_stage() -> None:
    deal, at = uuid4(), datetime(2026, 3, 1, tzinfo=UTC)
    doc = project(
        s.OpportunityOpenedV1(
            customer_id=CID,
            opportunity_id=deal,
            name="D",
            amount=Decimal("5"),
            currency="USD",
            stage="proposal",
            probability=Decimal("0.5"),
            expected_close_date=at.date(),
            owner="r",
        ),
        s.OpportunityLostV1(customer_id=CID, opportunity_id=deal, reason="price", lost_at=at),
    )
    assert doc["sales"]["lost_opportunities"][str(deal)]["reason"] == "price"
    reopened = s.OpportunityReopenedV1(
        customer_id=CID, opportunity_id=deal, stage="negotiation", probability=Decimal("0.7")
    )
    after = customer360.fold(doc, wrap(reopened), reopened)["sales"]
    assert after["lost_opportunities"] == {}
    assert after["open_opportunities"][str(deal)] == {
        "name": "D",
        "stage": "negotiation",
        "amount": "5",
        "currency": "USD",
        "probability": "0.7",
    }
