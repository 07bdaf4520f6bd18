"""The relay maps every sales domain event to its public event (or keeps it private on purpose)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate

from services.sales import relay
from services.sales.application import SalesApplication
from services.sales.catalogue import Product
from services.sales.commerce_commands import LineRequest
from services.sales.deal_commands import DealInput
from services.sales.importing import import_cdnow
from services.sales.lead_commands import LeadInput
from services.sales.leads import Lead
from services.sales.opportunities import Opportunity
from services.sales.orders import Order
from services.sales.quotes import Quote
from services.sales.team import CustomerContacts, Rep
from shared.events import PublicEvent
from shared.events import sales as public
from shared.events.sales import customer_id_for_external, customer_id_for_lead
from shared.platform import outbox
from shared.platform.auth import Principal

REP = Principal("rep@example.com", frozenset({"sales_rep"}))
AGGREGATES: tuple[type[Aggregate], ...] = (Lead, Opportunity, Product, Quote, Order, Rep, CustomerContacts)


def domain_event_classes() -> set[type[Any]]:
    return outbox.domain_event_classes(*AGGREGATES)


def test_every_domain_event_is_mapped_or_private() -> None:
    covered = relay.PRIVATE | set(relay.STANDALONE) | set(relay.WITH_STATE)
    assert domain_event_classes() == covered


def week(sales: SalesApplication) -> None:
    sales.register_rep("rep@example.com", name="Rep", team="east", territories=["CN"], manager=False, active=True)
    captured = LeadInput("李娜", email="li.na@example.cn", country="CN", source="web_form", consent={"email": True})
    lead = sales.capture_lead(captured, REP)
    sales.qualify_lead(lead.id, REP, None)
    deal = DealInput("许可证", Decimal("100.00"), "EUR", date(2026, 6, 30))
    _, opportunity = sales.convert_lead(lead.id, deal, REP, None)
    assert opportunity is not None
    sales.move_opportunity(opportunity.id, "proposal", REP, None)
    sales.change_opportunity(opportunity.id, REP, None, amount=Decimal("120.00"))
    product = sales.upsert_product(
        "SKU", name="许可证", prices={"EUR": Decimal("60")}, tax_rate=Decimal("0.2"), active=True
    )
    quote = sales.create_quote(opportunity.id, [LineRequest(product.id, Decimal(2))], date(2099, 1, 1), REP)
    sales.answer_quote(quote.id, "send", REP, None)
    sales.answer_quote(quote.id, "accept", REP, None)
    order = sales.order_from_quote(quote.id, REP)
    sales.progress_order(order.id, "pay", REP, None)
    sales.progress_order(order.id, "refund", REP, None, amount=Decimal("1.00"))
    sales.win_opportunity(opportunity.id, None, REP, None)
    import_cdnow(sales, " 00004 0001 19970101  2   29.33\n")


def published(sales: SalesApplication) -> list[PublicEvent]:
    to_public = relay.public_mapper(sales)
    notes = sales.recorder.select_notifications(start=1, limit=1000)
    events = [to_public(sales.mapper.to_domain_event(n)) for n in notes]
    return [e for e in events if e is not None]


def test_a_week_of_selling_publishes_valid_events_keyed_by_the_customer() -> None:
    sales = SalesApplication()
    week(sales)
    events = published(sales)
    for event in events:
        assert type(event).model_validate_json(event.model_dump_json()) == event
    kinds = Counter(type(e).__name__ for e in events)
    assert (kinds["OrderImportedV1"], kinds["OrderPaidV1"], kinds["QuoteIssuedV1"]) == (1, 1, 1)
    converted = next(e for e in events if isinstance(e, public.LeadConvertedV1))
    assert converted.customer_id == customer_id_for_lead(converted.lead_id)
    assert (converted.name, converted.emails, converted.country) == ("李娜", ["li.na@example.cn"], "CN")
    assert converted.consent == {"email": True}
    customer = converted.customer_id
    keyed = [e for e in events if e.subject_id() is not None and not isinstance(e, public.OrderImportedV1)]
    assert {e.subject_id() for e in keyed} == {str(customer)}
    imported = next(e for e in events if isinstance(e, public.OrderImportedV1))
    assert imported.customer_id == customer_id_for_external("cdnow", "00004")
    assert (imported.placed_at.year, imported.total) == (1997, Decimal("29.33"))
    captured = next(e for e in events if isinstance(e, public.LeadCapturedV1))
    assert "李娜" not in captured.model_dump_json(), "lead events carry no personal data"


def test_no_event_is_published_for_the_team_registry_or_remembered_emails() -> None:
    sales = SalesApplication()
    sales.register_rep("rep@example.com", name="Rep", team="east", territories=[], manager=False, active=True)
    sales.remember_emails(uuid4(), ["a@example.com"])
    assert published(sales) == []
